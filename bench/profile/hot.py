#!/usr/bin/env python3
"""Where the CPU went, from a dotnet-trace speedscope file of the dotnet-sampled-thread-time profile.

That profile samples every thread; a sample whose leaf is the pseudo-frame CPU_TIME was running managed code, the
rest (UNMANAGED_CODE_TIME) waited or was in native code. This keeps the CPU_TIME samples and prints the methods that
were running (exclusive) and the Fabric / ASP.NET Core / Orleans / networking frames on those stacks (inclusive).
Usage: hot.py trace.speedscope.json [top]
"""
import collections
import json
import sys

KEEP = ("Fabric.", "Microsoft.AspNetCore", "Orleans", "System.Net.WebSockets", "System.Text.Json", "System.Net.Sockets",
        "System.IO.Pipelines", "System.Threading.Channels")


def short(name):
    return name.split("!", 1)[-1].split("(", 1)[0][:120]


def main(path, top):
    d = json.load(open(path))
    frames = [f["name"] for f in d["shared"]["frames"]]
    exclusive, inclusive, busy = collections.Counter(), collections.Counter(), 0.0
    for p in d["profiles"]:
        stack, t0 = [], None
        for e in p["events"]:
            if len(stack) >= 2 and t0 is not None and frames[stack[-1]] == "CPU_TIME":
                dt = e["at"] - t0
                busy += dt
                exclusive[short(frames[stack[-2]])] += dt
                for name in {short(frames[f]) for f in stack[:-1]}:
                    inclusive[name] += dt
            if e["type"] == "O":
                stack.append(e["frame"])
            else:
                stack.pop()
            t0 = e["at"]
    print(f"managed CPU time sampled: {busy:.0f} ms")
    print("\n-- running (exclusive) --")
    for name, v in exclusive.most_common(top):
        print(f"{100 * v / busy:5.1f}%  {name}")
    print("\n-- on the stack (inclusive) --")
    for name, v in [(n, v) for n, v in inclusive.most_common() if n.startswith(KEEP)][:top]:
        print(f"{100 * v / busy:5.1f}%  {name}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
