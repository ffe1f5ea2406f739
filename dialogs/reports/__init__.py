"""Feature above the others: /results, /me and /leaderboard, which read every feature's records.

The one feature that may import other features (their labels and list orders).
Imports: `core`, `understanding`, `knowledge`, `storage` and any feature; never the composition root.
"""
