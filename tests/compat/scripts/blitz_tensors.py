"""The first steps of the classic 60-minute tutorial: making tensors, operations, the NumPy bridge, autograd."""
import numpy as np
import torch


def tensors():
    out = {}
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    out["ones_like"] = x_ones.tolist()
    out["rand_like_shape"] = list(x_rand.shape)
    out["rand_in_range"] = bool(((x_rand >= 0) & (x_rand < 1)).all())
    shape = (2, 3,)
    out["zeros"] = torch.zeros(shape).tolist()
    out["empty_size"] = list(torch.empty(5, 3).size())
    x = torch.zeros(5, 3, dtype=torch.long)
    out["long"] = x.dtype == torch.long and x.dtype == torch.int64
    x = torch.tensor([5.5, 3])
    x = x.new_ones(5, 3, dtype=torch.double)
    out["new_ones_double"] = x.dtype == torch.float64
    x = torch.randn_like(x, dtype=torch.float)
    out["randn_like_float"] = x.dtype == torch.float32
    out["size0"] = x.size()[0]
    out["size_is_tuple"] = isinstance(x.size(), tuple)
    out["np_equal"] = bool((x_np == x_data).all())

    tensor = torch.ones(4, 4)
    out["first_row"] = tensor[0].tolist()
    out["last_column"] = tensor[..., -1].tolist()
    tensor[:, 1] = 0
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    out["cat_shape"] = list(t1.shape)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    out["matmul_agree"] = torch.equal(y1, y2) and torch.equal(y1, y3)
    out["mul_agree"] = torch.equal(z1, z2) and torch.equal(z1, z3)
    agg = tensor.sum()
    agg_item = agg.item()
    out["agg"] = agg_item
    out["agg_type"] = type(agg_item).__name__
    tensor.add_(5)
    out["added"] = tensor[0].tolist()

    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    out["numpy_shares"] = n.tolist()
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    out["from_numpy_shares"] = t.tolist()

    x = torch.randn(4, 4)
    y = x.view(16)
    z = x.view(-1, 8)
    out["views"] = [list(x.size()), list(y.size()), list(z.size())]
    x = torch.randn(1)
    out["item_type"] = type(x.item()).__name__
    result = torch.empty(5, 3)
    a, b = torch.ones(5, 3), torch.full((5, 3), 2.0)
    torch.add(a, b, out=result)
    b.add_(a)
    out["add_out"] = result[0].tolist()
    out["add_"] = b[0].tolist()
    out["cuda"] = torch.cuda.is_available()
    return out


def autograd():
    out = {}
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    out["y_grad_fn"] = y.grad_fn is not None
    out["x_grad_fn"] = x.grad_fn is None
    z = y * y * 3
    result = z.mean()
    a = torch.randn(2, 2)
    a = ((a * 3) / (a - 1))
    out["a_requires"] = a.requires_grad
    a.requires_grad_(True)
    out["a_requires_after"] = a.requires_grad
    b = (a * a).sum()
    out["b_has_fn"] = b.grad_fn is not None
    result.backward()
    out["x_grad"] = x.grad.tolist()

    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    out["vjp"] = x.grad.tolist()
    out["requires"] = x.requires_grad
    out["pow_requires"] = (x**2).requires_grad
    with torch.no_grad():
        out["no_grad_requires"] = (x**2).requires_grad
    y = x.detach()
    out["detach_requires"] = y.requires_grad
    out["detach_equal"] = x.eq(y).all().item()

    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    out["check_a"] = (9 * a**2 == a.grad).tolist()
    out["check_b"] = (-2 * b == b.grad).tolist()
    return out


def main():
    return {"tensors": tensors(), "autograd": autograd()}
