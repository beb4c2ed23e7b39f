"""Exports a GPT-2 checkpoint to ONNX in the layout transformers.js loads, for the peer bench.

Dev-time only: never a runtime or CI dependency of nexttoken. The export is optimum's
`text-generation-with-past` (inputs `input_ids`, `attention_mask`, `position_ids`,
`past_key_values.{i}.key/value`; outputs `logits`, `present.{i}.key/value`), the exporter
transformers.js's own conversion script uses. Writes

    OUT/config.json, OUT/generation_config.json
    OUT/onnx/model.onnx            fp32, the checkpoint's own weights
    OUT/onnx/model_quantized.onnx  q8 (--dtypes q8): int8 weights of the matrix products,
                                   transformers.js's default on WASM
    OUT/onnx/model_fp16.onnx       fp16 (--dtypes fp16): 16-bit weights and activations,
                                   inputs and outputs kept fp32

optimum-onnx 0.1.0 needs transformers < 4.58, so it goes in its own folder laid over a venv
that has torch (see bench/README.md, "transformers.js"):

    pip install --no-deps --target /tmp/onnx-export -r bench/wasm/peer/requirements-export.txt
    PYTHONPATH=/tmp/onnx-export HF_HUB_OFFLINE=1 python bench/wasm/peer/export_onnx.py \
        /work/team/cache/gpt2-full /tmp/gpt2-onnx --dtypes fp32,q8
"""

import argparse
import shutil
import tempfile
from pathlib import Path

FILES = {"fp32": "model.onnx", "q8": "model_quantized.onnx", "fp16": "model_fp16.onnx"}


def export_fp32(model: str, out: Path) -> Path:
    """optimum's export (checked against torch by optimum on its own dummy inputs)."""
    from optimum.exporters.onnx import main_export

    with tempfile.TemporaryDirectory(prefix="nexttoken-onnx-") as tmp:
        main_export(model, tmp, task="text-generation-with-past", local_files_only=True)
        for name in ("config.json", "generation_config.json"):
            if (Path(tmp) / name).exists():
                shutil.copy(Path(tmp) / name, out / name)
        (out / "onnx").mkdir(parents=True, exist_ok=True)
        target = out / "onnx" / FILES["fp32"]
        shutil.move(Path(tmp) / "model.onnx", target)
    return target


def quantize_q8(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantization of the weights, as transformers.js's quantize script does."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(fp32, out, weight_type=QuantType.QInt8, extra_options={"EnableSubgraph": True})


def convert_fp16(fp32: Path, out: Path) -> None:
    """Everything in fp16 but the graph's inputs and outputs."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    half = convert_float_to_float16(onnx.load(fp32), keep_io_types=True, disable_shape_infer=True)
    onnx.save(half, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a Hugging Face layout folder (config.json + model.safetensors)")
    parser.add_argument("out", help="the folder to write (transformers.js's model layout)")
    parser.add_argument("--dtypes", default="fp32", help="comma-separated: fp32, q8, fp16")
    args = parser.parse_args()
    dtypes = args.dtypes.split(",")
    unknown = sorted(set(dtypes) - set(FILES))
    if unknown:
        parser.error(f"unknown dtypes {unknown}; choose from {sorted(FILES)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = export_fp32(args.model, out)
    if "q8" in dtypes:
        quantize_q8(fp32, out / "onnx" / FILES["q8"])
    if "fp16" in dtypes:
        convert_fp16(fp32, out / "onnx" / FILES["fp16"])
    for path in sorted((out / "onnx").iterdir()):
        print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
