"""Feature: role-plays (/roleplay, /hint, /end): the dialog, the scenario customer and the scorecard.

Imports: `core`, `understanding`, `knowledge`, `storage`; never another feature.
"""
