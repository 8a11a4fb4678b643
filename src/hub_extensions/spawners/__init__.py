"""Spawner classes and mixins of the suite."""
