"""Every label and sentence of the explanation, in English and Chinese (``--lang en|zh``).

Backpropagation is taught widely in Chinese (前向传播、反向传播、链式法则), so the
whole explanation — terminal, HTML page, drawings — switches language, never a mix.
"""
from __future__ import annotations

LANGS = ("en", "zh")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (English, 中文)
    "title": ("Backpropagation, step by step", "反向传播，一步一步"),
    "subtitle": ("computed by chainrule for this network, and every number checked three ways",
                 "由 chainrule 对这个网络算出，每个数都用三种方法核对"),
    "network": ("network", "网络"),
    "activation": ("activation", "激活函数"),
    "loss": ("loss", "损失函数"),
    "examples": ("examples", "样本数"),
    "lr": ("learning rate", "学习率"),
    "parameters": ("parameters", "参数"),
    "loss_mse": ("MSE: l = (1/K)·Σⱼ (yⱼ − tⱼ)²", "均方误差：l = (1/K)·Σⱼ (yⱼ − tⱼ)²"),
    "loss_cross_entropy": ("cross-entropy: l = −Σⱼ tⱼ·log yⱼ, y = softmax(a)",
                           "交叉熵：l = −Σⱼ tⱼ·log yⱼ，y = softmax(a)"),
    "names": ("PyTorch's names: wˡᵢⱼ = <k>.weight[i−1, j−1] and bˡᵢ = <k>.bias[i−1], where <k> = {ks} "
              "for layer ℓ = {ls}",
              "PyTorch 的名字：wˡᵢⱼ = <k>.weight[i−1, j−1]，bˡᵢ = <k>.bias[i−1]，其中第 ℓ = {ls} 层的 <k> = {ks}"),
    # section 1
    "s_forward": ("The network and the forward pass", "网络与前向传播"),
    "forward_rule": ("Every neuron computes z = Σᵢ wᵢxᵢ + b, then a = σ(z).",
                     "每个神经元先算 z = Σᵢ wᵢxᵢ + b，再算 a = σ(z)。"),
    "example": ("Example {n}", "样本 {n}"),
    "input": ("input", "输入"),
    "target": ("target", "目标"),
    "class": ("class", "类别"),
    "layer": ("Layer {l}", "第 {l} 层"),
    "hidden": ("hidden", "隐藏层"),
    "output_layer": ("output", "输出层"),
    "output": ("output", "输出"),
    "prediction": ("prediction", "预测"),
    "loss_is": ("loss", "损失"),
    "published": ("published in {source}: a = {a}", "{source}中给出：a = {a}"),
    "published_ours": ("chainrule computes a = {a}", "chainrule 算出的 a = {a}"),
    "published_same": ("the same to the {n} decimals printed", "保留 {n} 位小数后相同"),
    "published_differ": ("NOT the same to the decimals printed", "按给出的小数位数不相同"),
    # section 2
    "s_dzdw": ("The forward-pass part: ∂z/∂w", "前向部分：∂z/∂w"),
    "dzdw_rule": ("∂z/∂w is the value that fed the weight: the input xⱼ in layer 1, the previous "
                  "layer's activation aⱼ after that. ∂z/∂b = 1. The forward pass has already computed them all.",
                  "∂z/∂w 就是连到这个权重的输入值：第 1 层是输入 xⱼ，之后是上一层的激活值 aⱼ。∂z/∂b = 1。"
                  "前向传播已经把它们全部算好了。"),
    "same_for_all": ("the same for every neuron i of the layer", "对本层每个神经元 i 都相同"),
    # section 3
    "s_backward": ("The backward pass: ∂l/∂z through the reversed network", "反向传播：在反向网络中计算 ∂l/∂z"),
    "backward_rule": ("Run from the output toward the input. σ'(z) is a constant here, fixed by the forward "
                      "pass: in the reversed network each neuron is an amplifier with gain σ'(z).",
                      "从输出层往输入层算。这里 σ'(z) 是常数，由前向传播决定：在反向网络里，"
                      "每个神经元都是增益为 σ'(z) 的放大器。"),
    "case1": ("Case 1, output layer {l}: ∂l/∂z = σ'(z)·∂l/∂y, with ∂l/∂y from the loss",
              "情形 1，输出层（第 {l} 层）：∂l/∂z = σ'(z)·∂l/∂y，∂l/∂y 由损失函数直接得到"),
    "case1_ce": ("Case 1, output layer {l}: ∂l/∂z = σ'(z)·∂l/∂a, with ∂l/∂aⱼ = yⱼ − tⱼ (softmax + cross-entropy)",
                 "情形 1，输出层（第 {l} 层）：∂l/∂z = σ'(z)·∂l/∂a，其中 ∂l/∂aⱼ = yⱼ − tⱼ（softmax + 交叉熵）"),
    "case2": ("Case 2, hidden layer {l}: ∂l/∂z = σ'(z)·Σₖ wₖ·∂l/∂zₖ over the neurons z feeds",
              "情形 2，隐藏层（第 {l} 层）：∂l/∂z = σ'(z)·Σₖ wₖ·∂l/∂zₖ，对 z 连到的下一层神经元求和"),
    "autograd_agrees": ("✓ = chainrule's autograd gives the same ∂l/∂z",
                        "✓ = chainrule 的自动微分得到相同的 ∂l/∂z"),
    # section 4
    "s_chain": ("The chain rule: ∂l/∂w = ∂z/∂w · ∂l/∂z", "链式法则：∂l/∂w = ∂z/∂w · ∂l/∂z"),
    "chain_rule": ("The forward pass gave ∂z/∂w, the backward pass gave ∂l/∂z; their product is the "
                   "gradient. Checked against chainrule's autograd and central differences "
                   "(l(w+ε) − l(w−ε))/2ε.",
                   "前向传播给出 ∂z/∂w，反向传播给出 ∂l/∂z，两者相乘就是梯度。"
                   "并与 chainrule 的自动微分和中心差分 (l(w+ε) − l(w−ε))/2ε 核对。"),
    "col_param": ("param", "参数"),
    "col_dzdw": ("∂z/∂w", "∂z/∂w"),
    "col_dldz": ("∂l/∂z", "∂l/∂z"),
    "col_dldw": ("∂l/∂w", "∂l/∂w"),
    "col_autograd": ("autograd", "自动微分"),
    "col_numeric": ("numeric", "数值差分"),
    "col_ok": ("ok", "一致"),
    "col_sum": ("Σₙ ∂lⁿ/∂w", "Σₙ ∂lⁿ/∂w"),
    "col_mean": ("mean (cost)", "平均（代价）"),
    "col_old": ("θ⁰", "θ⁰"),
    "col_grad": ("∂L/∂θ", "∂L/∂θ"),
    "col_new": ("θ¹ = θ⁰ − η·∂L/∂θ", "θ¹ = θ⁰ − η·∂L/∂θ"),
    # section 5/6
    "s_total": ("Several examples: L = Σₙ lⁿ", "多个样本：L = Σₙ lⁿ"),
    "total_rule": ("The total loss is the sum of the examples' losses, so its gradient is the sum of the "
                   "per-example gradients. The mean, the cost C = L/N, only rescales it.",
                   "总损失是各样本损失之和，所以它的梯度就是各样本梯度之和。"
                   "平均值（代价 C = L/N）只是把它按比例缩小。"),
    "total_loss": ("total loss L = Σₙ lⁿ", "总损失 L = Σₙ lⁿ"),
    "cost": ("cost C = L/N", "代价 C = L/N"),
    "s_step": ("One step of gradient descent: θ¹ = θ⁰ − η·∇L(θ⁰)", "梯度下降一步：θ¹ = θ⁰ − η·∇L(θ⁰)"),
    "loss_before": ("loss before the step", "更新前的损失"),
    "loss_after": ("loss after the step", "更新后的损失"),
    "change": ("change", "变化"),
    # verdict
    "all_agree": ("All {n} gradients agree three ways: derivation = autograd = central differences.",
                  "全部 {n} 个梯度三种方法一致：推导 = 自动微分 = 中心差分。"),
    "some_disagree": ("{k} of {n} gradients disagree (marked ✗). At a ReLU kink (z = 0) central differences "
                      "cannot agree; anywhere else it is a bug worth reporting.",
                      "{n} 个梯度中有 {k} 个不一致（标 ✗）。在 ReLU 的折点（z = 0）中心差分本来就不会一致；"
                      "其他情况请报告这个错误。"),
    "tolerance": ("agree: |a − b| ≤ {atol} + {rtol}·|b|, float64", "一致：|a − b| ≤ {atol} + {rtol}·|b|，float64"),
    # focus mode
    "focus_title": ("One weight of a trained network, along its paths", "训练好的网络中的一个权重，沿着它的路径"),
    "focus_weight": ("weight {name} = {sym}: from {src} to neuron {i} of layer {l}",
                     "权重 {name} = {sym}：从 {src} 到第 {l} 层的第 {i} 个神经元"),
    "focus_bias": ("bias {name} = {sym}: of neuron {i} of layer {l}",
                   "偏置 {name} = {sym}：第 {l} 层第 {i} 个神经元的偏置"),
    "test_example": ("test example #{k}", "测试样本 #{k}"),
    "step_all": ("The step θ¹ = θ⁰ − η·∇L(θ⁰) updates every parameter of the network at once, not only this one: "
                 "the loss change shown is the whole step's.",
                 "这一步 θ¹ = θ⁰ − η·∇L(θ⁰) 同时更新网络的所有参数，而不只是这一个："
                 "下面的损失变化是整步更新的结果。"),
    "terms_of": ("sum of {n} terms; the largest:", "{n} 项之和；最大的几项："),
    "more": ("… and {n} more", "……还有 {n} 项"),
    "more_neurons": ("… and {n} more neurons", "……还有 {n} 个神经元"),
    "paths": ("Every path from this weight to the loss passes through the neurons below.",
              "从这个权重到损失的每条路径都经过下面这些神经元。"),
    # HTML drawings
    "fig_forward": ("Forward pass: z and a = σ(z) on the neurons, w on the edges",
                    "前向传播：神经元上是 z 与 a = σ(z)，边上是 w"),
    "fig_backward": ("Reversed network: ∂l/∂z on the neurons, σ'(z) as amplifiers, w on the edges",
                     "反向网络：神经元上是 ∂l/∂z，σ'(z) 为放大器，边上是 w"),
    "edge_colours": ("blue edge: w > 0, red: w < 0, thicker: larger |w|; hover an edge for its name",
                     "蓝色边：w > 0，红色：w < 0，越粗 |w| 越大；鼠标停在边上可看名字"),
    "drawn_for": ("drawn for example {n}", "画的是样本 {n}"),
    "agrees": ("agrees", "一致"),
    "disagrees": ("disagrees", "不一致"),
    "from_loss": ("from the loss", "来自损失"),
    "amp_tip": ("the slope of σ at {z} = {v}, fixed by the forward pass", "σ 在 {z} = {v} 处的斜率，由前向传播决定"),
    "s_forward_short": ("Forward", "前向"),
    "s_backward_short": ("Backward", "反向"),
    "neuron": ("neuron {i}", "神经元 {i}"),
    "walk": ("Step through it", "逐步演示"),
    "walk_help": ("One step per neuron: the forward pass, then the backward pass. Buttons or the ← → keys "
                  "step; each step lights up the neurons and edges it uses. Hover any number in the drawings "
                  "or tables to see where it came from.",
                  "每个神经元一步：先前向传播，再反向传播。用按钮或 ← → 键逐步播放；每一步都会高亮它用到的"
                  "神经元和边。鼠标停在图或表中的任何数上，可看到它的来源。"),
    "prev": ("◀ back", "◀ 上一步"),
    "next": ("next ▶", "下一步 ▶"),
    "font_hint": ("If the Chinese characters show as boxes, no Chinese font is installed: on Debian/Ubuntu "
                  "sudo apt install fonts-noto-cjk, on Fedora sudo dnf install google-noto-sans-cjk-fonts, on Arch "
                  "sudo pacman -S noto-fonts-cjk (Windows and macOS include one).",
                  "如果这里的汉字显示为方框，说明系统没有中文字体。请安装一个：Debian/Ubuntu 上 sudo apt install "
                  "fonts-noto-cjk，Fedora 上 sudo dnf install google-noto-sans-cjk-fonts，Arch 上 sudo pacman -S "
                  "noto-fonts-cjk（Windows 和 macOS 自带中文字体）。"),
    "tip_forward": ("from the forward pass", "来自前向传播"),
    "tip_backward": ("from the backward pass, section 3", "来自反向传播，第 3 节"),
    "tip_autograd": ("chainrule's autograd: cr.grad(l, w)", "chainrule 的自动微分：cr.grad(l, w)"),
    "tip_numeric": ("central difference (l(w+ε) − l(w−ε))/2ε, ε = 1e-6", "中心差分 (l(w+ε) − l(w−ε))/2ε，ε = 1e-6"),
    # the computation graph (--graph)
    "g_title": ("The computation graph, run backwards", "计算图，反向运行"),
    "g_subtitle": ("every node with its op, value, the local derivative rule it uses, and the upstream gradient "
                   "∂l/∂(its output), from the output back to the inputs",
                   "每个节点的运算、数值、它用的局部导数规则和上游梯度 ∂l/∂（它的输出），从输出一直到输入"),
    "g_nodes": ("{n} nodes, {k} leaves; output l = {l}", "{n} 个节点，{k} 个叶子；输出 l = {l}"),
    "g_value": ("value", "数值"),
    "g_rule": ("rule", "规则"),
    "g_leaves": ("Leaves: ∂l/∂(parameter), the walk checked against chainrule's backward pass",
                 "叶子：∂l/∂（参数），逐节点的推导与 chainrule 的反向传播核对"),
    "g_follow": ("One element along its paths: {name}", "沿着路径看一个元素：{name}"),
    "g_path": ("its paths to the loss run through {path}", "它到损失的路径经过 {path}"),
    "g_last_hop": ("{name} enters node #{k} ({op}); each element y of #{k}'s output contributes ∂l/∂y · ∂y/∂w, "
                   "the upstream gradient times the local derivative (the largest products first):",
                   "{name} 进入节点 #{k}（{op}）；#{k} 输出的每个元素 y 贡献 ∂l/∂y · ∂y/∂w，"
                   "即上游梯度乘局部导数（最大的乘积在前）："),
    "g_more_terms": ("{n} more", "还有 {n} 项"),
    "g_walk": ("chain rule, node by node", "链式法则，逐节点"),
    "g_sum": ("sum of the products", "乘积之和"),
    "g_no_numeric": ("not computed (no recompute function)", "未计算（没有重算函数）"),
    "g_agree": ("Every leaf's gradient agrees with chainrule's backward pass, and the followed element agrees "
                "three ways: chain rule = autograd = central differences.",
                "每个叶子的梯度都与 chainrule 的反向传播一致，所跟踪的元素三种方法一致："
                "链式法则 = 自动微分 = 中心差分。"),
    "g_disagree": ("Some gradients disagree (marked ✗).", "有梯度不一致（标 ✗）。"),
    "g_fig": ("The graph: the leaves first, the loss last; the followed element's paths in orange. "
              "Hover a node for its rule, value and gradient.",
              "计算图：先是叶子，最后是损失；所跟踪元素的路径为橙色。鼠标停在节点上可看它的规则、数值和梯度。"),
    "legend_amp": ("× σ'(z)", "× σ'(z) 放大"),
    "legend_edge": ("× w, then Σ", "× w，再求和"),
}


def tr(key: str, lang: str = "en", **kw) -> str:
    """The message ``key`` in ``lang``, formatted with ``kw``."""
    if lang not in LANGS:
        raise ValueError(f"explain: language {lang!r} is not one of {', '.join(LANGS)}")
    text = MESSAGES[key][LANGS.index(lang)]
    return text.format(**kw) if kw else text


ACT_NAMES = {
    "sigmoid": ("sigmoid", "sigmoid"), "tanh": ("tanh", "tanh"), "relu": ("ReLU", "ReLU"),
    "identity": ("none (identity)", "无（恒等）"),
}


def act_name(name: str, lang: str) -> str:
    return ACT_NAMES[name][LANGS.index(lang)]
