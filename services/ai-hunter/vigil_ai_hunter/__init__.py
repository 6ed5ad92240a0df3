"""Vigil's AI hunting stage: asks an LLM for vulnerabilities in the riskiest code."""
