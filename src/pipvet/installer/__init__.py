"""Hash-checked installs: plan, stage (download and verify), then let pip install only those files.

Entry points: ``pipvet.installer.plan.build_plan`` and ``pipvet.installer.run.install``.
"""
