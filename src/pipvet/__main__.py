from pipvet.cli.main import run

run()
