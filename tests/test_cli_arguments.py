"""The command line refuses numbers it cannot use before any work: nothing is created."""

import pytest

from water_logreg_plugin.cli import main


@pytest.mark.parametrize("option, value, least", [
    ("--task-pixels", "0", 1), ("--task-pixels", "-5", 1), ("--task-pixels", "2.5", 1),
    ("--task-pixels", "many", 1), ("--workers", "-1", 0),
])
def test_an_unusable_number_is_refused_before_any_work(tmp_path, capsys, option, value, least):
    output_folder = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_status:
        main(["predict", "--model", str(tmp_path / "model.json"), "--output-folder", str(output_folder),
              option, value, str(tmp_path / "scene.tif")])
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"python -m water_logreg_plugin.cli predict: error: argument {option}: give a whole number of "
        f"{least} or more, not '{value}'")
    assert not output_folder.exists()


def test_a_number_in_exponent_form_is_taken(tmp_path, capsys):
    # Refused later for the missing model, so the number itself was accepted.
    status = main(["predict", "--model", str(tmp_path / "model.json"), "--output-folder", str(tmp_path / "out"),
                   "--task-pixels", "1e6", str(tmp_path / "scene.tif")])
    assert status == 2
    assert "model" in capsys.readouterr().err
