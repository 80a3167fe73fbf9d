"""Labelling samples: detectors over the final state, the report parser, the judge, the scorers."""

from peerguard.scoring import detectors, peer, platform  # noqa: F401  (registers every detector)
