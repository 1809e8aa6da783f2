"""Facts of a Python file, for the rules to read: one ``ast`` parse and one visitor pass
(``python_ast``), values followed through the module (``dataflow``: folding, name resolution, taint
labels), and a tokenizer fallback for files ``ast`` cannot parse (``tokens``). Nothing here
decides anything: the rules in ``pipvet.core.analysis.rules`` do.
"""
