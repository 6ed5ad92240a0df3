"""Vigil's static scanning stage."""
