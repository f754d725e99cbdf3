#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a project with N tags into DIR/project.json for benchmarks:
half memory tags with write access, half bound to simulator signals."""
import json
import os
import sys


def main():
    if len(sys.argv) != 3:
        print("usage: gen_project.py DIR TAGS", file=sys.stderr)
        return 2
    out_dir, count = sys.argv[1], int(sys.argv[2])
    signals = [
        {"name": f"S{i}", "shape": ["sine", "ramp", "square", "random_walk"][i % 4],
         "min": 0, "max": 100, "period_ms": 10000 + 100 * i}
        for i in range(100)
    ]
    tags = []
    for i in range(count):
        tag = {"name": f"Area{i % 20}.Unit{i // 1000}.Tag{i:06d}", "type": "float",
               "unit": "m3/h", "description": f"benchmark tag {i}", "min": 0, "max": 100}
        if i % 2:
            tag["device"] = "sim"
            tag["address"] = f"S{i % 100}.value"
        else:
            tag["initial"] = 50.0
            tag["access"] = {"read": {"level": 1, "areas": [1, 2]},
                             "write": {"level": 100, "areas": [1], "permission": "tag.write"}}
        tags.append(tag)
    project = {
        "format": 1,
        "name": "bench",
        "description": f"{count} tags for benchmarks",
        "scan_classes": [{"name": "normal", "period_ms": 1000}],
        "devices": [{"name": "sim", "driver": "sim", "scan_class": "normal"}],
        "simulator": {"signals": signals},
        "tags": tags,
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "project.json"), "w") as f:
        json.dump(project, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
