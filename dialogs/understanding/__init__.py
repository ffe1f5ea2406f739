"""Ground floor: reading what a rep typed (normalising, clauses, tokens, speech acts, open/closed
and SPIN type), shared by the SPIN coach, the script drills, `salescoach classify` and the
role-play customer.

Imports: `knowledge` and itself; never `core`, a feature package or the composition root.
"""
