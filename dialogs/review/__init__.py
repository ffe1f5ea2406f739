"""Feature: one spaced-review queue (FSRS) over missed quiz questions, SPIN types and speech acts (/review), and its daily nudge.

Imports: `core`, `understanding`, `knowledge`, `storage`; never another feature.
"""
