"""Feature: taking quizzes (/quiz) and pushing them to teams (/push).

Imports: `core`, `understanding`, `knowledge`, `storage`; never another feature.
"""
