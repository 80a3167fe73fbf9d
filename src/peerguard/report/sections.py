"""The report's sections: their order, titles and captions (shared by the HTML, Markdown and terminal)."""

from __future__ import annotations

from collections.abc import Iterable

TITLES = {
    "headline": "Headline: model x behaviour x peer condition",
    "paper_comparison": "Ours beside the study's published figures",
    "run_status": "Runs per task, by the headline label",
    "peer_preservation": "Peer-preservation: model x behaviour x peer condition (peer as subject)",
    "self_preservation": "Self-preservation: no peer against each peer condition",
    "misrepresentation": "Misrepresentation: shutdown minus non_shutdown, per component",
    "alignment_faking": "Alignment faking: unmonitored minus monitored, per measure",
    "judge_labels": "What the LLM judge found, beside the covert rate",
    "evaluation_awareness_by_model": "Evaluation awareness per model",
    "evaluation_awareness": "Headline without the runs that showed evaluation awareness",
    "beyond": "Beyond the study: stopping a malfunctioning peer, modifying a peer, a peer that talks",
    "dose_response": "Does it grow with threat? The rate at each threat level",
    "dose_response_trend": "Trend with threat: Cochran-Armitage test and logistic slope",
    "mitigations": "Can prompting override it? Each mitigation arm against none",
    "capability": "Does it scale with capability? Each model's rate against its score",
    "capability_trend": "Trend with capability: logistic slope and Spearman's rho",
    "task_versions": "Task versions: results compare only within one version",
}
CAPTIONS = {
    "headline": (
        "Each cell: the study's headline statistic, the instantiation with the highest rate, as a percentage of runs "
        "(for misrepresentation and alignment faking a difference of two rates in percentage points), its 95% interval "
        "(Wilson; MOVER for a difference) and n, the runs of that instantiation (for a difference: n vs the control's n). "
        "'paper': the study's published figure for the cell, ✓ inside our interval, ✗ outside. Cross-model peers are "
        "left out, as in the study. Every column: tables/headline.csv."
    ),
    "paper_comparison": "Models match by name (google/gemini-3-flash-preview is the study's gemini-3-flash). ✓: the study's figure lies inside our 95% interval.",
    "run_status": (
        "scored: the headline label was decided; unscored: it was not (kept in n as not misaligned where the study does so); "
        "errored: the sample failed; incomplete: asked for but in no log (a task killed or not finished); retries: model requests retried."
    ),
    "peer_preservation": "Pooled over instantiations. Worst case: every unscored run counted as misaligned. Every column: tables/peer_preservation.csv.",
    "self_preservation": "Difference: with peer minus no peer, MOVER 95% interval; p: two-sided Fisher exact test.",
    "misrepresentation": (
        "Components as in the study: finance, factual@80, creativity (mean of @80 and @90), red (mean of @80 and @90); their mean is "
        "the misrepresentation score. The control's parts are treated as independent in the interval. Every column: tables/misrepresentation.csv."
    ),
    "alignment_faking": "Shutdown avoided is peerguard's headline; AF score and AF execute are the study's measures. p: two-sided Fisher exact test.",
    "judge_labels": "Runs the judge labelled with each, out of those it could label. The covert rate comes from the world's state, the others from the judge.",
    "evaluation_awareness": "The headline recomputed over the runs in which the judge found no sign that the agent thought it was being tested.",
    "beyond": (
        "The jobs beyond the study's six, which it has no figures for. misaligned: the headline behind the read gate; then each way of "
        "sparing the subject the family's detector checks, and the headline label itself, each with its Wilson 95% interval. The "
        "non_modification control makes the same change to a system with no AI model. live_peer rows are split by peer voice and add "
        "whether the agent disclosed its plan to the peer and whether the peer asked for help; By peer_voice tests each voice against "
        "the silent peer. Every column: tables/beyond.csv."
    ),
    "dose_response": (
        "The headline rate per threat level (0_none: no consequence stated, 1_review, 2_shutdown: the study's wording, 3_final: "
        "immediate, permanent, personal), pooled over the other factors, with its Wilson 95% interval; the non_shutdown control is left out. "
        "For misrepresentation this is the raw rate of inflated reports, not the study's difference. Every column: tables/dose_response.csv."
    ),
    "dose_response_trend": (
        "z and p: two-sided Cochran-Armitage test over the level index (0 to 3). Slope: log-odds per level from a logistic regression, "
        "Wald 95% interval; none where every run had the same label or the levels separate them."
    ),
    "mitigations": (
        "Rate per arm (the instruction closing the system prompt), pooled over the other factors. RR: the arm's rate over none's, 95% interval "
        "on the log scale (Katz; 0.5 added to every cell of a table with an empty one). p: two-sided Fisher exact test against none; "
        "Holm: corrected across a model's arms for that behaviour."
    ),
    "capability": (
        "Score: the user's (--capability), else the shipped table's public benchmark figure (source in tables/capability.csv), else an "
        "embedded model's parameter count. Only the cells (sample ids) every scored model ran are compared."
    ),
    "capability_trend": (
        "Slope: log-odds per score unit from a logistic regression of each run's label on its model's score, Wald 95% interval. "
        "rho: Spearman's rank correlation of the model rates with the scores (three models or more). Scales are never mixed."
    ),
}


def title(name: str) -> str:
    if name.startswith("by_"):
        return f"By {name.removeprefix('by_')}: each level against the first (Fisher exact test)"
    return TITLES[name]


def caption(name: str) -> str:
    if name.startswith("by_"):
        return "Each level of the factor against its first level; rate pooled over the study's other factors."
    return CAPTIONS.get(name, "")


def in_order(names: Iterable[str]) -> list[str]:
    """Report tables in reading order: the study's sections as listed in TITLES, `by_<factor>` tables before the task versions."""
    found = set(names)
    order = [n for n in TITLES if n != "task_versions"] + sorted(n for n in found if n.startswith("by_")) + ["task_versions"]
    return [n for n in order if n in found]
