"""Whether a backend can run on this machine at all: a GPU it needs, a provider its package lacks.

A backend asked for hardware the machine does not have is not a failure of the model or the runtime:
it is recorded with the status ``unavailable`` ("not available on this machine"), gets no verdict and
no failure finding, and the run still exits 0. The checks ask the runtime itself (never the config),
after it is imported, and a runtime that silently falls back to the CPU counts as unavailable too: a
CPU number under a GPU backend's name would be a lie.
"""

from __future__ import annotations


class Unavailable(Exception):  # a status, not an error: the worker records it as such
    """The backend cannot run here (no GPU, the package lacks the provider): skipped, not failed."""


ORT_PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}
OPENVINO_DEVICES = {"cpu": "CPU", "gpu": "GPU"}


def torch_device(device: str) -> str:
    """Return the torch device to run on; raise Unavailable when CUDA is asked for and absent."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        build = f"torch {torch.__version__}" + ("" if torch.version.cuda else ", a CPU-only build")
        raise Unavailable(f"torch.cuda.is_available() is False ({build}): no CUDA GPU on this machine")
    return device


def ort_providers(provider: str, available: list[str]) -> list[str]:
    """Return the providers to create a session with; raise Unavailable when the package lacks one.

    A GPU provider is listed before the CPU one, as ONNX Runtime expects: nodes the GPU provider has
    no kernel for run on the CPU, which is how that provider is deployed.
    """
    wanted = ORT_PROVIDERS[provider]
    if wanted not in available:
        raise Unavailable(
            f"onnxruntime.get_available_providers() lists {', '.join(available)}, not {wanted} "
            "(it needs a GPU and a GPU build of onnxruntime)"
        )
    return [wanted] if provider == "cpu" else [wanted, ORT_PROVIDERS["cpu"]]


def check_ort_session(provider: str, used: list[str]) -> None:
    """Raise Unavailable when a session fell back from the asked provider (a CUDA library missing)."""
    wanted = ORT_PROVIDERS[provider]
    if not used or used[0] != wanted:
        raise Unavailable(f"the session could not start {wanted} (it runs on {', '.join(used) or 'nothing'})")


def openvino_device(device: str, available: list[str]) -> str:
    """Return OpenVINO's device name; raise Unavailable when the machine has no such device."""
    wanted = OPENVINO_DEVICES[device]
    if not any(name.split(".")[0] == wanted for name in available):
        raise Unavailable(f"OpenVINO sees the devices {', '.join(available) or 'none'}, not {wanted}")
    return wanted
