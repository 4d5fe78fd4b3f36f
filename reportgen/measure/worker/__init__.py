"""What runs inside a fresh worker process: export, quantization, divergence search, one backend.

Only the modules of this package may import torch, onnxruntime or another runtime, and each job
imports only its own (``python -m reportgen.measure.worker JOB.json``).
"""
