"""Imported once by the grading forkserver so that every worker forks with SymPy, the LaTeX parser
and its ANTLR tables already loaded (a cold worker would spend ~1 s of its deadline on imports)."""
import sympy  # noqa: F401
from latex2sympy2_extended import latex2sympy

import graders.math.compare  # noqa: F401

latex2sympy("\\frac{x^{2}+1}{2}")
