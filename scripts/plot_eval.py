"""Plot an evaluation summary (the JSON line of `embody run/eval --json`) as a PNG.

    python scripts/plot_eval.py SUMMARY.json OUT.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    summary = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 2, 2]})
    rates = {"success": summary["success_rate"], "objects\ncleared": summary["objects_cleared_rate"]}
    ax1.bar(list(rates), list(rates.values()), color=["tab:green", "tab:blue"])
    ax1.set_ylim(0, 1)
    for i, v in enumerate(rates.values()):
        ax1.text(i, v + 0.02, f"{v:.2f}", ha="center")
    ax1.set_title(f"{summary['episodes']} episodes")
    for ax, key, title in ((ax2, "failed_episodes_by_kind", "failed episodes by cause"),
                           (ax3, "failed_attempts_by_kind", "failed skill attempts by cause")):
        kinds = summary.get(key) or {}
        if kinds:
            ax.barh(list(kinds), list(kinds.values()), color="tab:red")
        else:
            ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title)
    tpo = summary.get("time_per_object_s")
    fig.suptitle(f"{summary['scenario']} / {summary['policy']}"
                 + (f"  (time per object {tpo:.1f} s)" if tpo else ""))
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    main()
