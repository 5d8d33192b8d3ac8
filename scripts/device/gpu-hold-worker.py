#!/usr/bin/env python3
# A stand-in for `trtllm-serve` used only by scripts/device/gpu-run.ts on a real GPU machine: accepts the
# worker flags the console passes, allocates HOLD_GIB GiB on the first visible GPU (as a loaded model would),
# and answers GET /health with 200 until it is killed. Not part of the product.
import argparse, http.server, os, sys
import torch

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--host", default="localhost")
parser.add_argument("--port", type=int, default=8000)
args, _ = parser.parse_known_args()
gib = float(os.environ.get("HOLD_GIB", "8"))
block = torch.empty(int(gib * (1 << 30)), dtype=torch.uint8, device="cuda")
block.fill_(1)
torch.cuda.synchronize()
print(f"holding {gib} GiB on {torch.cuda.get_device_name(0)}", flush=True)

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass

http.server.HTTPServer((args.host, args.port), Health).serve_forever()
