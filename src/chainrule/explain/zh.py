"""Chinese typography: full-width punctuation, and lines that break between words, never inside one.

Chinese has no spaces, so a line may break between any two characters — except
inside a word (神经元 split as 神经 / 元 reads as two words) and before closing
punctuation.  ``units`` cuts text into the pieces a line may not split: the
words of ``WORDS`` (every term the explanation uses), single other characters,
punctuation glued to its neighbour, and runs of Latin letters, digits and math.
"""
from __future__ import annotations

import re

WORDS = sorted(set("""
反向传播 前向传播 一步一步 网络 激活函数 损失函数 样本数 学习率 参数 均方误差 交叉熵 名字 神经元 输入 目标 类别
隐藏层 输出层 输入层 输出 预测 损失 给出 算出 保留 小数 相同 不相同 前向部分 权重 输入值 之后 上一层 下一层 激活值
已经 全部 算好 本层 每个 计算 反向网络 这里 常数 决定 增益 放大器 情形 其中 求和 自动微分 得到 链式法则 两者 相乘
梯度 中心差分 核对 数值差分 一致 不一致 平均 代价 多个 样本 总损失 所以 按比例 缩小 梯度下降 更新前 更新后 变化
三种 方法 推导 折点 本来 其他 情况 报告 错误 训练好 路径 偏置 测试样本 同时 所有 整步 更新 结果 最大 还有 经过
下面 这些 蓝色 红色 鼠标 停在 来自 放大 幻灯片 目标值 课程 如果 汉字 显示 方框 安装 中文字体 字体 按钮 方向键
上一步 下一步 逐步 播放 说明 直接 连到 就是 只是 之和 各样本 这个 一个 位数 小数位数 那个 页面 没有 中文 系统
字体包 放大器 边上 越粗 可看 看名字 鼠标停在 图像 像素 读取 计算图 节点 局部导数 上游梯度 数值 形状 规则 沿着
乘积 元素 卷积 示例 教程 逐元素 前向 反向 输入图像 每条 路径上 手算 验证 网络中 本页 步骤 公式 来源 悬停
""".split()), key=len, reverse=True)

CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_CJK_CHAR = re.compile(f"[{CJK}]")
CLOSING = "，。、；：！？）》」』”’…"  # never at the start of a line
OPENING = "（《「『“‘"  # never at the end of a line
_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？"}


def is_cjk(ch: str) -> bool:
    return bool(_CJK_CHAR.match(ch))


def fullwidth(s: str) -> str:
    """ASCII , : ; ! ? next to Chinese become full-width (spaces around them go), and a ( ) pair
    whose content starts or ends in Chinese becomes （ ）; formulas keep their ASCII."""
    out = list(s)
    for k, ch in enumerate(out):
        if ch in _FULL:
            if _after_chinese(s[:k]) and (k + 1 == len(s) or not s[k + 1].isdigit()):
                out[k] = _FULL[ch]
    text = re.sub(r"\s*([，：；！？])\s*", r"\1", "".join(out))
    return _brackets(text)


def _after_chinese(before: str) -> bool:
    """Text ending in Chinese, or in a number after Chinese (样本 1, 第 2 层)."""
    words = before.split()
    if not words:
        return False
    if words[-1].isdigit() and len(words) > 1:
        return is_cjk(words[-2][-1])
    return is_cjk(words[-1][-1])


def _brackets(s: str) -> str:
    chars, stack = list(s), []
    for k, ch in enumerate(chars):
        if ch == "(":
            stack.append(k)
        elif ch == ")" and stack:
            o = stack.pop()
            inner = s[o + 1:k].strip()
            if inner and (is_cjk(inner[0]) or is_cjk(inner[-1])):
                chars[o], chars[k] = "（", "）"
    text = "".join(chars)
    return re.sub(r"\s*（", "（", re.sub(r"）\s+(?=[" + CJK + "])", "）", text))


def units(s: str) -> list[str]:
    """The pieces a line may not split, in order; ``"".join(units(s)) == s``."""
    out: list[str] = []
    k = 0
    while k < len(s):
        ch = s[k]
        if is_cjk(ch):
            word = next((w for w in WORDS if s.startswith(w, k)), ch)
        else:
            m = re.compile(f"[^\\s{CJK}]+\\s*|\\s+").match(s, k)
            word = m.group(0)
        k += len(word)
        if out and (word[0] in CLOSING or out[-1][-1] in OPENING):
            out[-1] += word
        else:
            out.append(word)
    return out
