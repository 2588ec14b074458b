"""Which device a run uses: Auto = CUDA if available, else Apple MPS, else CPU.

Training always runs in torch (resolve_device). A map needs torch only on a GPU: on the CPU
numpy computes the model's layers (prediction_device), so a model file predicts where torch
is not installed.
"""

from .errors import WaterLogRegError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(choice="auto"):
    """The torch.device for a choice, or a plain refusal when that device is absent."""
    import torch

    choice = _checked_choice(choice)
    cuda = torch.cuda.is_available()
    mps = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    if choice == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if choice == "cuda" and not cuda:
        raise WaterLogRegError(
            "CUDA was asked for, but torch finds no CUDA GPU on this machine "
            f"(torch {torch.__version__}{', a CPU-only build' if not torch.version.cuda else ''}). "
            "Choose Auto or CPU, or install a CUDA build of torch on a machine with an NVIDIA GPU."
        )
    if choice == "mps" and not mps:
        raise WaterLogRegError(
            "MPS was asked for, but torch finds no Apple GPU; choose Auto or CPU."
        )
    return torch.device(choice)


def prediction_device(choice="auto"):
    """'cpu', 'cuda' or 'mps': where a map is computed. The CPU needs no torch, so Auto is the
    CPU where torch is missing; a GPU is reached through torch only, so asking for one then is refused."""
    choice = _checked_choice(choice)
    if choice == "cpu":
        return "cpu"  # no torch import: it costs seconds and numpy computes the map
    try:
        import torch  # noqa: F401 — only to learn whether it is there
    except ImportError:
        if choice == "auto":
            return "cpu"
        raise WaterLogRegError(
            f"{choice.upper()} was asked for, but PyTorch (the Python package 'torch') is not installed, "
            "and a map reaches the GPU only through it. Choose Auto or CPU (a map on the CPU needs no "
            "torch), or install torch."
        ) from None
    return resolve_device(choice).type


def _checked_choice(choice):
    choice = (choice or "auto").lower()
    if choice not in DEVICE_CHOICES:
        raise WaterLogRegError(
            f"Unknown device '{choice}'; choose one of {', '.join(DEVICE_CHOICES)}."
        )
    return choice
