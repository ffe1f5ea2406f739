"""Feature: the SPIN coach (/spin), questioning scripts and drills (/scripts), and the practice
verdicts that explain a classification to the rep.

Imports: `core`, `understanding`, `knowledge`, `storage`; never another feature.
"""
