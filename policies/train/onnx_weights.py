"""Read an exported model's network back from its ONNX file into PyTorch.

distill.py starts its student from the teacher's weights this way, and train.py's --init-model
continues training from an exported model (one in policies/models/, or one a previous machine
exported) when its PyTorch checkpoint is not at hand: the ONNX file and its JSON are all a
model ships with.
"""

import sys

import numpy as np
import torch

import layout
from model import ConditionalUnet1D


def network_from_onnx(meta, onnx_path, who):
    """The PyTorch network of an exported model, with the weights of its ONNX file. Most initializers keep
    their parameter names; GroupNorm's affine weights are exported as anonymous Mul/Add
    constants after the InstanceNormalization, so they are found by following the graph back to
    the convolution that feeds the norm (`X.0.weight` -> the norm is `X.1`)."""
    import onnx
    from onnx import numpy_helper

    feature_layout = layout.of_fields(meta["obs"]["fields"])
    obs_dim, action_dim = layout.dims(feature_layout)
    n = meta["network"]
    net = ConditionalUnet1D(action_dim, meta["obs"]["horizon"] * obs_dim, down_dims=tuple(n["down_dims"]),
                            kernel_size=n["kernel_size"], n_groups=n["n_groups"],
                            step_embed_dim=n["step_embed_dim"])
    graph = onnx.load(str(onnx_path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer = {o: node for node in graph.node for o in node.output}
    consumers = {}
    for node in graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    found = {k: inits[k] for k in net.state_dict() if k in inits}
    for node in graph.node:
        if node.op_type != "Mul":
            continue
        scale = next((i for i in node.input if i in inits and i.startswith("onnx::")), None)
        if scale is None:
            continue
        # Back from the Mul to the convolution (Reshape <- InstanceNorm <- Reshape <- Conv).
        here, conv = node, None
        for _ in range(8):
            flow = [i for i in here.input if i not in inits and i in producer]
            if not flow:
                break
            here = producer[flow[0]]
            if here.op_type == "Conv":
                conv = here
                break
        if conv is None or here is node:
            continue
        weight = next((i for i in conv.input if i in inits and i.endswith(".0.weight")), None)
        adds = [c for c in consumers.get(node.output[0], []) if c.op_type == "Add"]
        bias = next((i for a in adds for i in a.input if i in inits and i.startswith("onnx::")), None)
        if weight is None or bias is None:
            continue
        norm = weight[: -len(".0.weight")] + ".1"
        found[norm + ".weight"] = inits[scale]
        found[norm + ".bias"] = inits[bias]
    state = net.state_dict()
    missing = [k for k in state if k not in found]
    if missing:
        sys.exit(f"{who}: {onnx_path}: no weights found for {len(missing)} parameters ({missing[:4]} ...)")
    net.load_state_dict({k: torch.from_numpy(np.array(found[k])).reshape(state[k].shape) for k in state})
    return net.eval(), feature_layout


@torch.no_grad()
def check_against_onnx(net, onnx_path, meta):
    """The PyTorch copy must compute what the ONNX file computes (largest difference returned)."""
    import onnxruntime as ort

    g = torch.Generator().manual_seed(0)
    tp, da = meta["action"]["pred_horizon"], meta["action"]["dim"]
    sample = torch.randn(4, tp, da, generator=g)
    t = torch.tensor([0, 30, 60, 90], dtype=torch.int64)
    cond = torch.rand(4, meta["obs"]["horizon"] * meta["obs"]["dim"], generator=g) * 2 - 1
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"sample": sample.numpy(), "timestep": t.numpy(), "global_cond": cond.numpy()})[0]
    return float(np.abs(net(sample, t, cond).numpy() - want).max())
