"""One model over many scenes: each scene predicted on its own, a failure never stops the rest.

Here the scenes run one after another; with a Dask scheduler or workers they go to
core.scale.cluster. Both use core.scale.scenes for what one scene is."""

from ..callbacks import QUIET
from ..dates.occurrence import water_occurrence
from .scenes import check_batch, predict_scene, scene_outputs


def predict_scenes(
    model,
    scenes,
    output_folder,
    device="auto",
    callbacks=QUIET,
    scheduler=None,
    workers=0,
    prior=None,
):
    """Predict every scene into output_folder/<scene>_water.tif (scenes.scene_outputs tells
    scenes of one name apart); returns [SceneResult].

    `model` is a WaterModel or a model-file path. With a Dask `scheduler` address, or
    `workers` > 0 for a local Dask cluster of that many processes, the same per-scene work
    runs there (core.scale.cluster, which needs dask[distributed]); otherwise here, one scene
    after another. `prior` (water_share.WaterPrior): the share of water each map is for,
    each scene's own by EM for FROM_SCENE; None: as the model gives it.
    """
    model = check_batch(model, scenes, output_folder)
    if scheduler or workers:
        from .cluster import predict_scenes_on_cluster

        return predict_scenes_on_cluster(
            model, scenes, output_folder, device, scheduler=scheduler, workers=workers, callbacks=callbacks,
            prior=prior,
        )
    results = []
    for index, (scene, output) in enumerate(zip(scenes, scene_outputs(scenes, output_folder))):
        callbacks.check_canceled()
        result = predict_scene(model, scene, output, device, callbacks, prior)
        for line in result.log_lines():
            callbacks.log(line)
        results.append(result)
        callbacks.progress((index + 1) / len(scenes))
    return results


def predict_scenes_with_occurrence(model, scenes, output_folder, occurrence_path, device="auto", callbacks=QUIET,
                                   scheduler=None, prior=None):
    """predict_scenes, then the water occurrence of the scenes it predicted (P ≥ 0.5 is water)
    into `occurrence_path`; returns ([SceneResult], the path, or None when no scene was predicted)."""
    results = predict_scenes(model, scenes, output_folder, device, callbacks.part(0.0, 0.9), scheduler, prior=prior)
    predicted = [result.output for result in results if result.status == "ok"]
    if not predicted:
        callbacks.log("Warning: no scene was predicted, so there is no water occurrence to write.")
        return results, None
    water_occurrence(predicted, occurrence_path, callbacks=callbacks.part(0.9, 1.0))
    return results, occurrence_path
