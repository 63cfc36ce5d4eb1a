"""`gr-scaling suggest`: per fitted curve, the next runs that most narrow what the fit leaves open."""
from __future__ import annotations

import functools

from scaling.app.common import add_results


def _next_rung(axis: str, cfg: dict) -> tuple[str, float | None]:
    """The override that takes the largest run one rung up its axis, and that rung's size when known."""
    if axis == "recommender":
        return _preset_rung(cfg, "larger")
    if axis == "lora":
        r = int(cfg.get("llm", {}).get("lora_r", 8)) * 4
        return f"llm.lora_r={r} llm.lora_alpha={2 * r}", None
    if axis == "tokenizer":
        return f"tokenizer.width={int(cfg.get('tokenizer', {}).get('width', 256)) * 4}", None
    if axis == "encoder":
        ladder = ["minilm", "mpnet", "smollm2", "gemma3-270m"]
        name = cfg.get("encoder", {}).get("name")
        nxt = ladder[ladder.index(name) + 1] if name in ladder[:-1] else "<a larger encoder (Hugging Face id)>"
        return f"encoder.name={nxt}", None
    if axis == "id_recommender":
        return _next_sasrec(cfg)
    if axis == "llm":
        return "llm.name=<a larger LLM of the same family (Hugging Face id)>", None
    return f"<the next size along axis {axis!r}>", None


def _preset_rung(cfg: dict, word: str) -> tuple[str, float | None]:
    """The SID-GR recommender preset next larger (smaller) than the run's, by non-embedding parameters counted on
    the meta device with the run's token layout (the presets' dict order is not their size order), and its size."""
    tok = cfg.get("tokenizer", {})
    sizes = _preset_sizes(cfg.get("model", {}).get("arch", "encdec"), int(tok.get("width", 256)),
                          int(tok.get("levels", 3)))
    now = cfg.get("model", {}).get("preset")
    if now not in sizes:
        return f"model.preset=<a preset {word} than the run's>", None
    side = [(n, v) for n, v in sizes.items() if (v > sizes[now] if word == "larger" else v < sizes[now])]
    if not side:
        return f"model.preset=<a preset {word} than {now}, the {'largest' if word == 'larger' else 'smallest'} in scaling/sidgr/presets.py>", None
    name, size = (min if word == "larger" else max)(side, key=lambda kv: kv[1])
    return f"model.preset={name}", size


@functools.lru_cache(maxsize=None)   # a pure function of its arguments: the presets are fixed
def _preset_sizes(arch: str, width: int, levels: int) -> dict[str, float]:
    import torch

    from scaling.config import ModelConfig
    from scaling.params import recommender_params
    from scaling.sidgr.model import TokenLayout, build_model
    from scaling.sidgr.presets import PRESETS

    layout, sizes = TokenLayout([width] * levels + [8], 0), {}
    with torch.device("meta"):   # the exact counts the curve uses, on no memory
        for name in PRESETS.get(arch, {}):
            sizes[name] = float(recommender_params(build_model(ModelConfig(arch=arch, preset=name), layout))
                                ["n_rs_non_embedding"])
    return sizes


def _rung_placeholder(law: str, rung: tuple[str, str], cfg: dict, size: float) -> str:
    """The command-line override for a joint law's rung past the study's range that no config value of the study's
    runs can say (another LLM, encoder or recommender preset)."""
    col, word = rung
    if law == "sidgr" and col == "n_rs_non_embedding":
        return _preset_rung(cfg, word)[0]
    if law == "sidgr" and col == "n_llm":
        return f"encoder.name=<a {word} encoder (Hugging Face id), ~{size:.3g} parameters>"
    if law == "llmrs" and col == "n_llm":
        name = cfg.get("llm", {}).get("name")
        return f"llm.name=<a {word} LLM of the same family{f' as {name}' if name else ''} (Hugging Face id), ~{size:.3g} parameters>"
    return f"<a {word} {col}, ~{size:.3g}>"


def _next_sasrec(cfg: dict) -> tuple[str, float | None]:
    """The next of the paper's SASRec sizes (scaling.idrec.model.PRESETS, Table 3) and its exact non-embedding count."""
    import torch

    from scaling.idrec.model import PRESETS, SASRec, sasrec_params

    names = list(PRESETS)
    name = cfg.get("sasrec", {}).get("preset")
    i = names.index(name) if name in names else len(names) - 1
    if i + 1 >= len(names):
        return "sasrec.preset=<a preset larger than the largest in scaling/idrec/model.py>", None
    with torch.device("meta"):   # the embeddings do not enter the count: any item count and length will do
        m = SASRec(2, 2, PRESETS[names[i + 1]], 0.0)
    return f"sasrec.preset={names[i + 1]}", float(sasrec_params(m)["n_id_non_embedding"])


def command(args) -> None:
    """For each fitted curve: the next runs ranked by the R0 interval width they are expected to give."""
    import json
    from pathlib import Path

    import numpy as np

    from analysis import load_results, study
    from analysis.suggest import suggest

    df = load_results(args.results)
    curves, _, notes = study(df, args.metric, args.n_boot)
    which = args.metric.split("/")[0]
    for c in curves:
        ci = c.boot.ci()["R0"]
        now = ("not identified" if "R0" in c.unidentified() else "identified") + f", 95% interval [{ci[0]:.4g}, {ci[1]:.4g}]"
        print(f"{c.axis}: ceiling R0 {c.fit.params['R0']:.4g} ({now}; width {ci[1] - ci[0]:.3g})")
        if c.noise != "users+seeds":
            print("  these records have no per-user outcomes; rerun them with this version (outcomes.npz) to rank next runs")
            continue
        rows = df.set_index("run_id").loc[c.runs]
        largest = rows.loc[rows[c.x].astype(float).idxmax()]
        cfg = json.loads((Path(largest["path"]) / "config.json").read_text())
        override, size = _next_rung(c.axis, cfg)
        users = rows[f"{which}/n_users"].to_numpy(int)
        ranked = suggest(c, users, sims=args.sims, larger=size)
        if ranked and ranked[0].kind == "users":
            print("  more evaluation users is the cheapest fix: the points' own sampling error dominates")
        if ranked:
            print(f"  first because {ranked[0].why}")
        for rank, s in enumerate(ranked, 1):
            print(f"  {rank}. {s.what}: expected R0 interval width {s.expected_width:.3g}; "
                  f"training cost ~{s.cost:.2g}x the largest run")
            base = f"gr-scaling run --from {Path(largest['path'])}"
            if s.kind == "larger":
                print(f"     {base} {override}")
            elif s.kind == "seeds":
                print(f"     for each run of the curve: gr-scaling run --from RUN seed={int(cfg['seed']) + 1}")
            else:
                more = int(np.median(users)) * 4
                print(f"     for each run of the curve: gr-scaling run --from RUN eval.test_users={more} "
                      "(retrains: eval.test_users is part of a run's id)")
    for n in notes:
        print("not fitted:", n)
    for line in capped_suggestions(df):
        print(line)
    joint_suggestions(df, args)


def capped_suggestions(df) -> list[str]:
    """For each run its step cap ended while validation was still rising (analysis.capped): the same config trained
    4x longer, early stopping free to end it (a new run id: train.max_steps is part of it)."""
    from pathlib import Path

    from analysis.capped import capped_runs
    from analysis.load import run_label

    runs = capped_runs(df)
    runs = runs[runs["cap_state"] == "rising"]
    if runs.empty:
        return []
    lines = ["still improving at their step cap (their numbers are lower bounds); trained out:"]
    for _, r in runs.sort_values("run_id").iterrows():
        cap = int(float(r["train.max_steps"]))
        lines += [f"  {r['run_id']} ({run_label(r)}): best at its last validation, step {int(float(r['best_step']))}",
                  f"     gr-scaling run --from {Path(r['path'])} train.max_steps={4 * cap}"]
    return lines


def joint_suggestions(df, args) -> None:
    """For each joint law: what it leaves unidentified and the runs, built from the study's own settings, that add
    most information about it (analysis.suggest_joint)."""
    import json
    from pathlib import Path

    import numpy as np

    from analysis.joint import CF_MIN_RUNS, JOINT, cf_runs, joint_fit
    from analysis.laws import LAWS
    from analysis.suggest_joint import suggest_joint

    try:
        have = cf_runs(df, args.metric)
    except (ValueError, KeyError):   # no LLM-as-RS runs with sizes (or no records): nothing to say of the CF test
        have = None
    for law in ("sidgr", "llmrs"):
        try:
            jf = joint_fit(df, law, args.metric, min(args.n_boot, 100))
        except Exception as e:   # noqa: BLE001 - a law these runs cannot determine is said
            print(f"joint law {law}: not fitted ({str(e).splitlines()[0]})")
            continue
        if not jf.unidentified:
            print(f"joint law {law}: every parameter identified ({jf.method})")
            continue
        g = df[df["run_id"].isin(jf.run_ids)]
        print(f"joint law {law}: not identified: {', '.join(jf.unidentified)} ({jf.method}, {len(g)} runs); the runs "
              "that add most information about them (the law linearised at its fit; sd now / sd with the run):")
        paths = dict(zip(df["run_id"], df["path"]))
        for rank, s in enumerate(suggest_joint(jf, g, float(np.median(jf.sigma))), 1):
            gains = ", ".join(f"{p} x{v:.3g}" for p, v in s.gain.items())
            print(f"  {rank}. {s.what}: {gains}")
            if s.overrides:
                print(f"     gr-scaling run --from {Path(paths[s.base])} "
                      + " ".join(f"{k}={v}" for k, v in s.overrides.items()))
            elif s.rung:
                f = Path(paths[s.base]) / "config.json"
                cfg = json.loads(f.read_text()) if f.is_file() else {}   # (a table's row has no record)
                size = s.sizes[JOINT[law][1].index(s.rung[0])]
                print(f"     gr-scaling run --from {Path(paths[s.base])} {_rung_placeholder(law, s.rung, cfg, size)}")
    if have and have < CF_MIN_RUNS:   # a study with LLM-as-RS runs, too few for the test
        print(f"the CF test (Table 8): not run: {have} LLM-as-RS title runs, it needs {CF_MIN_RUNS} (the law refitted "
              f"without each run in turn); {CF_MIN_RUNS - have} more at (LoRA, LLM) sizes the study lacks"
              + (", e.g. the llmrs runs above" if have > len(LAWS["llmrs"].params) else ""))


def register(sub) -> None:
    sg = sub.add_parser("suggest", help="the next runs that most narrow what the fits leave open")
    add_results(sg, "a results directory (run records with per-user outcomes)", n_boot=300)
    sg.add_argument("--sims", type=int, default=8, help="simulated studies per candidate (more: steadier ranking)")
    sg.set_defaults(fn=command)
