#!/usr/bin/env bash
# Install reportgen as users do (a wheel, no -e, no checkout on the path) and use it from an empty folder:
# render the committed demo results, then build a small config. `make test-wheel`; CI runs it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$top/.venv/bin/python" -m pip wheel -q --no-deps --no-build-isolation "$top" -w "$work/dist"
"$python" -m venv "$work/venv"
# A team's venv already has its torch; reportgen (torch as a range, no runtime by default) must keep it.
grep -v '^torch==' "$top/constraints.txt" > "$work/constraints-reportgen.txt"
"$work/venv/bin/pip" install -q -c "$top/constraints.txt" torch
wheel=$(ls "$work"/dist/reportgen-*.whl)
"$work/venv/bin/pip" install -q -c "$work/constraints-reportgen.txt" "$wheel"
"$work/venv/bin/python" -c "import importlib.util as u, sys; sys.exit('onnxruntime came without the extra' if u.find_spec('onnxruntime') else 0)"
cd "$work" && mkdir empty && cd empty
cp "$top/tests/wheel/small.yaml" .
# Without the extra, the onnxruntime backend is unavailable (with the pip line), not failed; the run exits 0.
"$work/venv/bin/reportgen" run -c small.yaml -o bare.json
"$work/venv/bin/python" -c "import json, sys; b = json.load(open('bare.json'))['backends']['onnxruntime']; \
  sys.exit(0 if b['status'] == 'unavailable' and \"pip install 'reportgen[onnxruntime]'\" in b['error'] else f'{b[\"status\"]}: {b[\"error\"]}')"
"$work/venv/bin/pip" install -q -c "$work/constraints-reportgen.txt" "reportgen[onnxruntime] @ file://$wheel"
"$work/venv/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__ == '2.13.0+cpu' else f'torch {torch.__version__} replaced 2.13.0+cpu')"
"$work/venv/bin/pip" check
# Nothing of the checkout may be imported: the package must come from the venv's site-packages.
"$work/venv/bin/python" -c "import reportgen, sys; sys.exit('reportgen imported from the checkout' if '$top' in reportgen.__file__ else 0)"
"$work/venv/bin/reportgen" render "$top/tests/data/results_demo.json" --site-dir site
test -s site/0.1.0/index.html && test -s site/assets/style.css && test -s site/assets/plotly.min.js
"$work/venv/bin/reportgen" build -c small.yaml
test -s site/wheel-check/index.html
"$work/venv/bin/reportgen" init --source factory --task detection -o starter.yaml
echo "wheel check: ok (torch kept, onnxruntime an extra, render, build, init from an installed wheel)"
