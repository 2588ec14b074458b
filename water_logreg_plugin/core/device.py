"""Which torch device a run uses: Auto = CUDA if available, else Apple MPS, else CPU."""

from .errors import WaterLogRegError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(choice="auto"):
    """The torch.device for a choice, or a plain refusal when that device is absent."""
    import torch

    choice = (choice or "auto").lower()
    if choice not in DEVICE_CHOICES:
        raise WaterLogRegError(
            f"Unknown device '{choice}'; choose one of {', '.join(DEVICE_CHOICES)}."
        )
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
