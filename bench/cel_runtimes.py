"""Which CEL runtime scorecards use: compile one rule once, evaluate it over 10k entity dicts, with each.

    python bench/cel_runtimes.py google       # cel-expr-python (Google's CEL C++ runtime; requirements.txt)
    PYTHONPATH=<dir with cel-python> python bench/cel_runtimes.py cel-python

cel-python is not a dependency: install it into a throwaway directory (pip install --target DIR cel-python)
to repeat the comparison. Figures are recorded in docs/scorecards.md.
"""

from __future__ import annotations

import sys
import time

EXPR = 'has(entity.spec.lifecycle) && entity.spec.lifecycle in ["production","experimental"]'
N = 10_000
LIFECYCLES = ["production", "experimental", "deprecated"]


def entities() -> list[dict]:
    out = []
    for i in range(N):
        spec: dict = {"type": "service", "owner": f"group:default/team-{i % 50}"}
        if i % 3:
            spec["lifecycle"] = LIFECYCLES[i % 3 - 1]
        out.append({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": f"svc-{i}", "namespace": "default", "annotations": {"a/b": "x"},
                         "tags": ["python", "web"]},
            "spec": spec,
            "relations": [{"type": "ownedBy", "targetRef": spec["owner"]}],
        })  # fmt: skip
    return out


def bench(name: str, compile_, run) -> None:
    data = entities()
    t0 = time.perf_counter()
    program = compile_()
    t1 = time.perf_counter()
    passed = sum(1 for entity in data if run(program, entity))
    t2 = time.perf_counter()
    print(f"{name}: compile {1000 * (t1 - t0):.2f} ms, evaluate {N} {1000 * (t2 - t1):.0f} ms "
          f"({1e6 * (t2 - t1) / N:.1f} us/entity), passed {passed}")  # fmt: skip


def main(which: str) -> None:
    if which == "cel-python":
        import celpy

        env = celpy.Environment()
        bench("cel-python", lambda: env.program(env.compile(EXPR)),
              lambda program, e: bool(program.evaluate({"entity": celpy.json_to_cel(e)})))  # fmt: skip
    else:
        from cel_expr_python import cel

        env = cel.NewEnv(variables={"entity": cel.Type.Map(cel.Type.STRING, cel.Type.DYN)})
        bench("cel-expr-python", lambda: env.compile(EXPR),
              lambda program, e: program.eval(data={"entity": e}).value())  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "google")
