"""Bad input gets a clear error: every case below raises, naming the operation and the
offending shapes, dtypes or values. The same table is docs/errors.md; when a message changes,
regenerate the page with `python tests/test_errors.py > docs/errors.md`."""
import os
import pathlib
import re
import sys
import tempfile

import numpy as np
import pytest

from tensorgrad.data import MNIST, ChecksumError, CIFARError
from tensorgrad.data.idx import IDXError, read_idx

# (what went wrong, code that does it, expected exception, a regex the message must match)
CASES = [
    ("Incompatible broadcast shapes", "tg.ones(2, 3) + tg.ones(4)",
     ValueError, r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast together"),
    ("matmul inner dimensions differ", "tg.ones(2, 3) @ tg.ones(4, 5)",
     ValueError, r"matmul: inner dimensions differ: \(2, 3\) @ \(4, 5\)"),
    ("reshape to an incompatible size", "tg.ones(2, 3).reshape(4, 2)",
     ValueError, r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"),
    ("Index out of range", "tg.ones(2, 3)[:, 5]",
     IndexError, r"getitem: index 5 is out of bounds for axis 1 with size 3 \(tensor of shape \(2, 3\)\)"),
    ("Reduction over a missing axis", "tg.ones(2, 3).sum(axis=2)",
     ValueError, r"sum: axis 2 is out of range for a tensor with 2 dimensions"),
    ("mean over a missing axis", "tg.ones(2, 3).mean(dim=2)",
     ValueError, r"mean: axis 2 is out of range for a tensor with 2 dimensions"),
    ("any over a repeated axis", "tg.ones(2, 3).any((1, -1))",
     ValueError, r"any: repeated axis in \(1, -1\)"),
    ("arange with step 0", "tg.arange(0, 10, 0)",
     ValueError, r"arange: step must not be zero \(start 0, end 10\)"),
    ("eye with a negative size", "tg.eye(3, -1)",
     ValueError, r"eye: sizes must be non-negative, got shape \(3, -1\)"),
    ("conv2d channel mismatch", "F.conv2d(tg.ones(2, 3, 8, 9), tg.ones(5, 4, 3, 3))",
     ValueError, r"conv2d: input has 3 channels but weight expects 4 .*\(input \(2, 3, 8, 9\), weight \(5, 4, 3, 3\)\)"),
    ("conv2d on a 3-D input", "F.conv2d(tg.ones(3, 8, 9), tg.ones(5, 3, 3, 3))",
     ValueError, r"conv2d: expected a 4-D input \(N, C, H, W\), got shape \(3, 8, 9\)"),
    ("conv2d kernel larger than the padded input", "F.conv2d(tg.ones(2, 3, 4, 4), tg.ones(5, 3, 7, 3))",
     ValueError, r"conv2d: kernel \(7, 3\) .* larger than the padded input \(4, 4\)"),
    ("conv2d stride 0", "F.conv2d(tg.ones(2, 3, 8, 8), tg.ones(5, 3, 3, 3), stride=0)",
     ValueError, r"conv2d: stride must be positive"),
    ("conv2d with an empty kernel", "F.conv2d(tg.ones(1, 1, 3, 3), tg.ones(1, 1, 0, 0))",
     ValueError, r"conv2d: the kernel must not be empty, got kernel size \(0, 0\)"),
    ("conv2d with mixed float dtypes", "F.conv2d(tg.ones(1, 1, 3, 3), tg.ones(1, 1, 2, 2, dtype='float64'))",
     TypeError, r"conv2d: input, weight and bias must share one floating dtype, got \['float32', 'float64'\]"),
    ("A class weight of the wrong shape", "F.cross_entropy(tg.randn(2, 3), [0, 1], weight=tg.ones(2))",
     ValueError, r"cross_entropy: weight must have shape \(3,\) for 3 classes, got \(2,\)"),
    ("binary_cross_entropy on values that are not probabilities",
     "F.binary_cross_entropy(tg.tensor([-0.5, 0.5]), [0.0, 1.0])",
     ValueError, r"binary_cross_entropy: every input element must be a probability in \[0, 1\]"),
    ("conv_transpose2d output_padding too large",
     "F.conv_transpose2d(tg.ones(1, 2, 3, 3), tg.ones(2, 1, 3, 3), stride=2, output_padding=2)",
     ValueError, r"conv_transpose2d: output_padding \(2, 2\) must be smaller than either stride"),
    ("Reflect padding as large as the axis", "F.pad(tg.ones(1, 1, 2, 4), (4, 0), 'reflect')",
     ValueError, r"pad: reflect padding \(4, 0\) of axis 3 must be at most 3"),
    ("An embedding id out of range", "nn.Embedding(4, 2)(tg.tensor([0, 4]))",
     IndexError, r"embedding: id 4 is out of range for 4 embeddings"),
    ("interpolate given both a size and a scale factor",
     "F.interpolate(tg.ones(1, 1, 2, 2), size=4, scale_factor=2)",
     ValueError, r"interpolate: give exactly one of size and scale_factor"),
    ("max_pool2d window larger than the input", "F.max_pool2d(tg.ones(2, 3, 4, 4), 5)",
     ValueError, r"max_pool2d: kernel \(5, 5\) is larger than the padded input \(4, 4\)"),
    ("Pool padding over half the window", "F.max_pool2d(tg.ones(2, 3, 4, 4), 2, padding=2)",
     ValueError, r"max_pool2d: padding \(2, 2\) must be at most half the kernel size"),
    ("backward() on a non-scalar without a gradient", "(tg.ones(2, 3, requires_grad=True) * 2).backward()",
     RuntimeError, r"backward: a gradient can be created implicitly only for a scalar output, this tensor has shape \(2, 3\)"),
    ("backward() twice through a freed graph",
     "y = (tg.ones(3, requires_grad=True) * 2).sum()\ny.backward()\ny.backward()",
     RuntimeError, r"Sum: trying to backward through the graph a second time"),
    ("Gradient of an integer tensor requested", "tg.tensor([1, 2, 3], requires_grad=True)",
     TypeError, r"only floating-point tensors can require gradients, this one is int64 with shape \(3,\)"),
    ("In-place change to an array saved for backward",
     "w = tg.ones(3, requires_grad=True)\nloss = (w * w).sum()\nwith tg.no_grad():\n    w[0] = 5.0\nloss.backward()",
     RuntimeError, r"Mul: one of the arrays it saved for backward \(input 0, float32 of shape \(3,\)\) has been "
                   r"modified by an in-place operation: it is at version 1; expected version 0"),
    ("Backward through a graph recorded before an optimizer step",
     "model = nn.Linear(3, 2)\nopt = optim.SGD(model.parameters(), lr=0.1)\n"
     "model(tg.ones(4, 3)).sum().backward()\nkept = model(tg.ones(4, 3))   # a second forward\n"
     "opt.step()   # fine, as in PyTorch\nkept.sum().backward()",
     RuntimeError, r"Linear: one of the arrays it saved for backward \(input 1, float32 of shape \(2, 3\)\) has "
                   r"been modified by an in-place operation"),
    ("An in-place op on a leaf that requires grad, while recording",
     "w = tg.ones(3, requires_grad=True)\nw += 1",
     RuntimeError, r"add_: a leaf tensor that requires grad \(shape \(3,\)\) is being used in an in-place "
                   r"operation while gradients are recorded"),
    ("Assigning a gradient that is not a Tensor", "w = tg.ones(3, requires_grad=True)\nw.grad = 0.0",
     TypeError, r"grad: expected a Tensor or None, got float \(for a tensor of shape \(3,\)\)"),
    ("Assigning a gradient of another shape", "w = tg.ones(3, requires_grad=True)\nw.grad = tg.zeros(4)",
     ValueError, r"grad: the gradient has shape \(4,\), the tensor has shape \(3,\)"),
    ("An in-place operand that does not fit the tensor", "tg.ones(3).add_(tg.ones(2, 3))",
     ValueError, r"add_: an operand of shape \(2, 3\) cannot be written into a tensor of shape \(3,\) in place"),
    ("An in-place op, while recording, on a tensor whose memory a view shares",
     "y = tg.ones(2, 3, requires_grad=True) * 2\nrow = y[0]\ny.add_(1)",
     RuntimeError, r"add_: this tensor \(shape \(2, 3\)\) shares its memory with another tensor"),
    ("A tensor hook that returns a gradient of another shape",
     "x = tg.ones(3, requires_grad=True)\nx.register_hook(lambda grad: tg.ones(4))\n(x * 2).sum().backward()",
     RuntimeError, r"hook <lambda> returned a float32 gradient of shape \(4,\) for a float32 tensor of shape \(3,\)"),
    ("A complex tensor that requires grad", "tg.tensor(1 + 1j, requires_grad=True)",
     TypeError, r"complex tensors cannot require gradients \(this one is complex128 with shape \(\)\)"),
    ("An argument given in NumPy's and PyTorch's spelling at once", "tg.ones(2, 3).sum(axis=0, dim=0)",
     TypeError, r"sum: got both axis= and dim= \(NumPy's and PyTorch's name for the same argument\)"),
    ("A device that is not available", "tg.ones(2).to('cuda:0')",
     RuntimeError, r"to: device 'cuda:0' is not available: tensorgrad runs on the CPU \(NumPy\) only"),
    ("Data that is not numbers", "tg.tensor(['1.5', '2'])",
     TypeError, r"tensor: cannot make a tensor from list \['1.5', '2'\] \(NumPy dtype <U3\); tensors hold numbers"),
    ("A Python number from a tensor of several elements", "float(tg.ones(2))",
     TypeError, r"float\(\): only a tensor with one element can be converted to a Python float, this one has "
                r"shape \(2,\)"),
    ("gather with an index out of range", "tg.ones(2, 3).gather(1, tg.tensor([[0, 3]]))",
     IndexError, r"gather: index values must be in \[-3, 3\) for dimension 1 of shape \(2, 3\), got 0..3"),
    ("A complex result of an op that is recorded for gradients",
     "tg.tensor([1 + 1j]) * tg.ones(1, dtype='float64', requires_grad=True)",
     TypeError, r"Mul: a complex result \(complex128, shape \(1,\)\) cannot be recorded for gradients"),
    ("Assigning a gradient of another dtype", "w = tg.ones(3, requires_grad=True)\nw.grad = tg.zeros(3, dtype='float64')",
     TypeError, r"grad: the gradient is float64, the tensor is float32 \(shape \(3,\)\)"),
    ("A tensor hook that returns something other than a Tensor",
     "x = tg.ones(3, requires_grad=True)\nx.register_hook(lambda grad: grad.data)\n(x * 2).sum().backward()",
     TypeError, r"hook <lambda> returned a ndarray; a tensor hook returns a Tensor \(the new gradient\) or None"),
    ("An in-place op whose result does not fit the dtype", "tg.tensor([1, 2, 3]).div_(2)",
     TypeError, r"div_: cannot write the result into this int64 tensor \(shape \(3,\)\) in place"),
    ("An in-place op on read-only memory", "tg.ones(3).expand(2, 3).mul_(2)",
     ValueError, r"mul_: this tensor's memory is read-only \(shape \(2, 3\)\)"),
    ("An in-place op on an integer tensor with an operand that requires grad",
     "tg.tensor([1, 2]).add_(tg.ones(2, requires_grad=True))",
     TypeError, r"add_: an operand requires grad but this int64 tensor \(shape \(2,\)\) cannot"),
    ("clamp_ without bounds", "tg.ones(3).clamp_()",
     ValueError, r"clamp_: at least one of min and max must be given"),
    ("masked_fill_ with a mask that is not bool", "tg.ones(3).masked_fill_(tg.tensor([1, 0, 1]), 0.0)",
     TypeError, r"masked_fill_: the mask must be bool, got int64"),
    ("A primitive's backward returns a wrong shape",
     "class Bad(tg.Function):\n"
     "    @staticmethod\n    def forward(ctx, x): return x.sum(axis=0)\n"
     "    @staticmethod\n    def backward(ctx, grad): return grad\n"
     "Bad.apply(tg.ones(3, 2, requires_grad=True)).sum().backward()",
     RuntimeError, r"Bad.backward returned a gradient of shape \(2,\) for input 0 of shape \(3, 2\)"),
    ("NaN during a forward pass under detect_anomaly",
     "with tg.detect_anomaly():\n    tg.tensor([-1.0], requires_grad=True).log()",
     FloatingPointError, r"detect_anomaly: Log produced nan \(1 of 1 values, shape \(1,\)\) in its forward pass"),
    ("load_state_dict with missing keys and wrong shapes",
     "nn.Linear(3, 2).load_state_dict({'weight': np.zeros((3, 3))})",
     RuntimeError, r"load_state_dict: cannot load into Linear:\n  missing keys: bias\n  size mismatch for weight: "
                   r"checkpoint shape \(3, 3\), model shape \(2, 3\)"),
    ("A damaged checkpoint file",
     "tg.save(nn.Linear(3, 2).state_dict(), 'model.npz')\nopen('model.npz', 'r+b').write(b'garbage')\n"
     "tg.load('model.npz')",
     ValueError, r"load: model.npz is damaged or not a tensorgrad checkpoint"),
    ("A checkpoint with a compressed member (a possible zip bomb)",
     "import zipfile\nwith zipfile.ZipFile('bomb.npz', 'w', zipfile.ZIP_DEFLATED) as z:\n"
     "    z.writestr('0.npy', bytes(10 ** 6))\ntg.load('bomb.npz')",
     ValueError, r"load: bomb.npz: member '0.npy' is compressed \(zip method 8, deflate\); a "
                 r"tensorgrad checkpoint stores its members uncompressed"),
    ("A checkpoint member whose shape does not match its data",
     "header = {'descr': '<f8', 'fortran_order': False, 'shape': (10 ** 12,)}\n"
     "with open('0.npy', 'wb') as f:\n    np.lib.format.write_array_header_1_0(f, header)\n"
     "import zipfile\nwith zipfile.ZipFile('huge.npz', 'w') as z:\n    z.write('0.npy')\n"
     "tg.load('huge.npz')",
     ValueError, r"load: huge.npz: member '0.npy' declares shape \(1000000000000,\) of float64 "
                 r"\(8,000,000,000,000 bytes\) but holds 0 bytes"),
    ("A pickle, e.g. PyTorch's legacy checkpoint format",
     "import pickle\nwith open('model.pt', 'wb') as f:\n    pickle.dump({'w': [1.0]}, f, protocol=2)\n"
     "tg.load('model.pt')",
     ValueError, r"load: model.pt is a pickle, e.g. PyTorch's legacy .* re-save it with torch.save"),
    ("Saving a structure that contains itself", "state = {'epoch': 1}\nstate['self'] = state\n"
     "tg.save(state, 'loop.npz')",
     ValueError, r"save: the dict at root\['self'\] contains itself; a checkpoint must be a tree"),
    ("Saving into a folder that does not exist", "tg.save({'w': np.ones(2)}, 'runs/model.npz')",
     FileNotFoundError, r"cannot write runs/model.npz: No such file or directory"),
    ("An optimizer given a tensor that does not require grad", "optim.SGD([tg.zeros(3)], lr=0.1)",
     ValueError, r"SGD: parameter 0 of group 0 \(shape \(3,\)\) does not require grad"),
    ("A size that is not an int", "tg.zeros(2.7)",
     TypeError, r"zeros: a size must be an int, got float 2.7"),
    ("A negative size in reshape", "tg.ones(2, 12).reshape(-2, 12)",
     ValueError, r"reshape: sizes must be non-negative \(or -1\), got shape \(-2, 12\)"),
    ("An axis that is not an int", "tg.ones(2, 3).sum(axis=1.0)",
     TypeError, r"sum: axis must be an int, got float 1.0"),
    ("argmax of an empty tensor", "tg.zeros(0, 3).argmax()",
     ValueError, r"argmax: the tensor of shape \(0, 3\) is empty, so it has no largest"),
    ("A seed that is not an int", "tg.manual_seed(2.5)",
     TypeError, r"manual_seed: the seed must be an int, got float 2.5"),
    ("An optimizer option of the wrong type in a parameter group",
     "optim.SGD([{'params': nn.Linear(3, 2).parameters(), 'lr': '0.1'}], lr=0.1)",
     TypeError, r"SGD: option 'lr' of parameter group 0 must be a number, got '0.1'"),
    ("An optimizer state saved by another optimizer class",
     "model = nn.Linear(3, 2)\nadam = optim.Adam(model.parameters())\n"
     "optim.SGD(model.parameters(), lr=0.1).load_state_dict(adam.state_dict())",
     ValueError, r"SGD.load_state_dict: parameter group 0 of the state has no \['dampening', 'momentum', "
                 r"'nesterov'\]: it was saved by another optimizer class"),
    ("A scheduler state with an option out of range",
     "opt = optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1)\nsched = optim.StepLR(opt, step_size=5)\n"
     "sched.load_state_dict({**sched.state_dict(), 'step_size': 0})",
     ValueError, r"StepLR.load_state_dict: StepLR: step_size must be positive, got 0"),
    ("A state_dict value that is not an array of numbers",
     "nn.Linear(3, 2).load_state_dict({'weight': 'abc', 'bias': np.zeros(2)})",
     TypeError, r"load_state_dict: the value for 'weight' is a str, not an array of numbers"),
    ("A dataset file with a wrong checksum",
     "os.makedirs('data/mnist')\nfor name in ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'):\n"
     "    open('data/mnist/' + name, 'wb').write(b'not mnist')\n"
     "MNIST(root='data', train=False, download=False)",
     ChecksumError, r"data/mnist/t10k-images-idx3-ubyte.gz has MD5 \w+ but the published file's MD5 is "
                    r"9fb629c4189551a2d022fa330f9573f3"),
    ("A truncated dataset file",
     "open('t.idx', 'wb').write(bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(100))\n"
     "read_idx('t.idx')",
     IDXError, r"t.idx: truncated: shape \(2, 28, 28\) of uint8 needs 1568 bytes of data after the header, "
               r"the file has 100"),
    ("A dataset that is missing offline",
     "MNIST(root='nowhere', train=False, download=False)",
     FileNotFoundError, r"MNIST: 2 file\(s\) missing in nowhere/mnist. Place these files there"),
    ("Samples of different shapes in one batch",
     "from tensorgrad.utils.data import DataLoader\n"
     "next(iter(DataLoader([np.zeros(2), np.zeros(3)], batch_size=2)))",
     RuntimeError, r"default_collate: cannot stack samples of different shapes \[\(2,\), \(3,\)\]; pad "
                   r"them or pass a collate_fn"),
    ("A sampler together with shuffle=True",
     "from tensorgrad.utils.data import DataLoader\nDataLoader(list(range(4)), sampler=[3, 2], shuffle=True)",
     ValueError, r"DataLoader: sampler and shuffle=True exclude each other"),
    ("Normalize before ToTensor",
     "from tensorgrad.data import transforms\n"
     "transforms.Normalize(0.1307, 0.3081)(np.zeros((28, 28), np.uint8))",
     TypeError, r"Normalize: expected an image: a floating \(C, H, W\) Tensor or array, or a floating "
                r"batch \(N, C, H, W\); got uint8 \(28, 28\)"),
    ("A CIFAR batch whose labels are not one per image",
     "import pickle\nfrom tensorgrad.data import read_cifar_batch\n"
     "read_cifar_batch(pickle.dumps({b'data': np.zeros((2, 3072), np.uint8), b'labels': [[1], [2, 3]]}),\n"
     "                 'data_batch_1')",
     CIFARError, r"data_batch_1: b'labels' must be 2 integers \(one per image\)"),
    ("A collective before init_process_group",
     "import tensorgrad.distributed as dist\ndist.all_reduce(tg.ones(3))",
     RuntimeError, r"tensorgrad.distributed: the default process group has not been initialized; call "
                   r"init_process_group\(\) first"),
    ("A DistributedSampler rank outside the group",
     "from tensorgrad.data import DistributedSampler\nDistributedSampler(list(range(10)), num_replicas=2, rank=2)",
     ValueError, r"DistributedSampler: rank must be in \[0, 1\] for 2 replicas, got 2"),
    ("A global batch that does not split over the workers",
     "from tensorgrad.train import TrainConfig\nTrainConfig(batch_size=63, workers=2)",
     ValueError, r"batch_size 63 does not split evenly over 2 workers \(it is the global batch: use a "
                 r"multiple of 2\)"),
]


def run_case(code: str):
    """Run a case's code in a fresh temporary folder; return what it raised and its message
    as the page shows it (without the temporary folder and this file's own frames)."""
    import tensorgrad as tg
    import tensorgrad.functional as F
    from tensorgrad import nn, optim
    namespace = dict(tg=tg, F=F, nn=nn, optim=optim, np=np, os=os, MNIST=MNIST, read_idx=read_idx)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder, np.errstate(all="ignore"):
        os.chdir(folder)
        try:
            exec(compile(code, "example.py", "exec"), namespace)
        except Exception as error:  # the case under test
            return error, _as_shown(error, folder)
        finally:
            os.chdir(cwd)
    raise AssertionError(f"no error raised by:\n{code}")


def _as_shown(error: BaseException, folder: str) -> str:
    text = f"{type(error).__name__}: {error}"
    for prefix in {os.path.realpath(folder), folder}:
        text = text.replace(prefix + os.sep, "")
    lines, shown = text.splitlines(), []
    for i, line in enumerate(lines):
        own_frame = line.startswith('  File "') and __file__ in line
        if own_frame or (i and lines[i - 1].startswith('  File "') and __file__ in lines[i - 1]):
            continue
        shown.append(line)
    return "\n".join(shown)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(case):
    _, code, kind, pattern = case
    error, _ = run_case(code)
    assert isinstance(error, kind), f"{type(error).__name__}: {error}"
    assert re.search(pattern, str(error)), str(error)


def catalogue() -> str:
    lines = [
        "# Errors",
        "",
        "tensorgrad never answers bad input with a wrong result: it raises, and the message names",
        "the operation and the offending shapes, dtypes or values. Each case below is executed by",
        "`tests/test_errors.py`, which also checks that this page shows the messages as they are",
        "(regenerate it with `python tests/test_errors.py > docs/errors.md`).",
        "",
        "Mixed float32/float64 operands of elementwise ops and matmul are not an error: they",
        "promote as in NumPy and PyTorch (float32 + float64 gives float64), and each input's",
        "gradient comes back in its own dtype. Python scalars never change a float tensor's dtype.",
        "conv2d, as PyTorch's, refuses mixed dtypes (see below): cast with `.to()` first.",
        "",
    ]
    for title, code, kind, _ in CASES:
        lines += [f"## {title}", "", "```python", code, "```", "", "```text", run_case(code)[1],
                  "```", ""]
    return "\n".join(lines)


def test_docs_errors_page_is_current():
    page = pathlib.Path(__file__).resolve().parent.parent / "docs" / "errors.md"
    assert page.read_text() == catalogue(), "regenerate: python tests/test_errors.py > docs/errors.md"


if __name__ == "__main__":
    sys.stdout.write(catalogue())
