"""Runs modules written by `matgrad codegen` against matgrad's own numbers.

Usage: python run_generated.py CASES.json TARGET [x64|x32]

CASES.json lists, per case, the module's path, the arguments (as NumPy's tolist()) and
matgrad's value and gradients, and for a module with `hessian` matgrad's blocks in JAX's
layout. Prints one JSON line per case with the largest relative error (of the value, of each
gradient, of each Hessian block, of the jitted functions for JAX) and whether a wrong shape
raised a ValueError naming the input and both shapes.
"""

import importlib.util
import json
import py_compile
import sys

import numpy as np

cases_file, target = sys.argv[1], sys.argv[2]
precision = sys.argv[3] if len(sys.argv) > 3 else "x64"
if target == "jax":
    import jax

    jax.config.update("jax_enable_x64", precision == "x64")
if target == "torch":
    import torch


def to_target(value):
    array = np.asarray(value, dtype=np.float64)
    if target == "numpy":
        return array
    if target == "jax":
        return jax.numpy.asarray(array)
    return torch.tensor(array, dtype=torch.float64)


def to_numpy(value):
    if target == "torch" and not isinstance(value, np.ndarray):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def relative(got, expected):
    got, expected = to_numpy(got).astype(np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return float("inf")
    if expected.size == 0:
        return 0.0
    scale = np.max(np.abs(expected))
    difference = np.max(np.abs(got - expected))
    if not np.isfinite(difference):
        return 0.0 if np.array_equal(got, expected, equal_nan=True) else float("inf")
    return float(difference / (scale if scale > 0 else 1.0))


def block_errors(blocks, expected):
    """Each Hessian block's relative error; a nested tuple of the wrong structure is infinite.
    A side of length 1 may differ (matgrad's row vector [1, n] is a 1-D array here)."""
    if not isinstance(blocks, tuple) or len(blocks) != len(expected):
        return [float("inf")]
    errors = []
    for row, wanted in zip(blocks, expected):
        if not isinstance(row, tuple) or len(row) != len(wanted):
            return [float("inf")]
        for got, block in zip(row, wanted):
            got, block = to_numpy(got), np.asarray(block, dtype=np.float64)
            squeezed = [n for n in got.shape if n != 1] == [n for n in block.shape if n != 1]
            if got.shape != block.shape and squeezed:
                got = got.reshape(block.shape)
            errors.append(relative(got, block))
    return errors


def wrong_shape(module, arguments, names):
    """None if the last non-scalar argument with one more axis raises a ValueError naming
    it and its shape; else what went wrong."""
    for i in reversed(range(len(arguments))):
        array = np.asarray(arguments[i], dtype=np.float64)
        if array.ndim == 0:
            continue
        bad = array[..., None]
        given = list(arguments)
        given[i] = bad
        try:
            module.value(*[to_target(a) for a in given])
        except ValueError as error:
            message = str(error)
            if names[i] in message and str(bad.shape) in message:
                return None
            return "message without the name or shape: " + message
        return "no ValueError for a wrong shape of " + names[i]
    return None


for case in json.load(open(cases_file)):
    result = {"name": case["name"]}
    try:
        py_compile.compile(case["module"], doraise=True)
        spec = importlib.util.spec_from_file_location("generated", case["module"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        arguments = [to_target(a) for a in case["arguments"]]
        errors = [relative(module.value(*arguments), case["value"])]
        value, grads = module.value_and_grad(*arguments)
        errors.append(relative(value, case["value"]))
        errors += [relative(g, e) for g, e in zip(grads, case["grads"])]
        if len(grads) != len(case["grads"]):
            errors.append(float("inf"))
        if "hessian" in case:
            errors += block_errors(module.hessian(*arguments), case["hessian"])
        if target == "jax":
            value, grads = jax.jit(module.value_and_grad)(*arguments)
            errors.append(relative(value, case["value"]))
            errors += [relative(g, e) for g, e in zip(grads, case["grads"])]
            result["dtype"] = str(value.dtype)
            if "hessian" in case:
                errors += block_errors(jax.jit(module.hessian)(*arguments), case["hessian"])
        result["error"] = max(errors)
        if case.get("check_shapes"):
            result["shape_error"] = wrong_shape(module, case["arguments"], case["names"])
    except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
        result["error"] = float("inf")
        result["exception"] = f"{type(error).__name__}: {error}"
    if not np.isfinite(result["error"]):
        result["error"] = None  # JSON has no infinity
    print(json.dumps(result), flush=True)
