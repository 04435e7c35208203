"""The published BLT-VS variants (ImageNet and ecoset, at 224 and 128 px): their cards and registration.

The network itself is `models.blt.BLTVS`; this module says what each variant is (areas, time bins,
weights, citation) and registers its builder.
"""

from __future__ import annotations

from brainlike.models.blt import AREAS, BLTVS, arrival_steps
from brainlike.registry import Area, ModelCard, register_model, uniform_bins
from brainlike.weights import WeightSpec

CITATION = (
    "Thorat S, Aldegheri G, Kietzmann TC (2024). Category-selective channels in deep networks of the "
    "ventral stream emerge from recurrent top-down and bottom-up processing. arXiv:2404.16955. "
    "Code and weights: github.com/KietzmannLab/BLT-VS (MIT)."
)

_HF = "https://huggingface.co/novelmartis/blt_vs_model/resolve/main/"
DATASETS = {
    # dataset: (timesteps, classes, bio_unroll, published file at 224 px)
    "imagenet": (6, 1000, False, "blt_vs_slt_111_biounroll_0_t_6_readout_multi_dataset_imagenet_num_1.pth"),
    "ecoset": (12, 565, True, "blt_vs_slt_111_biounroll_1_t_12_readout_multi_dataset_ecoset_num_1.pth"),
}
# Latency of each area's first response (ms) and one step (ms): in biological unrolling a step is
# one hop between adjacent areas, so Retina 20, LGN 35, V1 50, V2/V4 65, V3/LOC 80 ms; in sweep
# mode every area responds in step 0 at its feed-forward latency and each further step is one
# feedback cycle.
_BIO_START_MS, _BIO_STEP_MS = 20.0, 15.0
_SWEEP_LATENCY_MS = (20.0, 35.0, 50.0, 60.0, 65.0, 70.0, 80.0)
_SWEEP_STEP_MS = 25.0
# Brain-Score region -> area, as Brain-Score's own BLT-VS plugin publishes it (brain-score/vision,
# brainscore_vision/models/blt-vs/region_layer_map/blt_vs.json, written by its layer-mapping run of
# 26 Nov 2024, commit 100e698): V1 -> "V1_5", V2 -> "V3_5", V4 -> "V1_5", IT -> "V4_5", the plugin's
# names for an area's output at step 5 (bottom-up and top-down together). The map is Brain-Score's
# layer selection on its public benchmarks, not anatomy. A card commits one region per area, so area V1
# carries V1 and the adapter (brainlike.brainscore) answers V4 from V1 through this table too. The steps
# are brainlike's: each requested time bin is answered by the step committed nearest to it, not always
# by step 5.
BRAINSCORE_REGION_MAP = {"V1": "V1", "V2": "V3", "V4": "V1", "IT": "V4"}
_CARD_REGIONS = {area: region for region, area in reversed(BRAINSCORE_REGION_MAP.items())}


def _weights(dataset: str, image_size: int) -> dict[str, WeightSpec]:
    if image_size != 224:
        return {}
    timesteps, classes, bio, filename = DATASETS[dataset]
    config = dict(
        timesteps=timesteps,
        num_classes=classes,
        bio_unroll=bio,
        image_size=224,
        add_feats=100,
        lateral_connections=True,
        topdown_connections=True,
        skip_connections=True,
        readout_type="multi",
    )
    return {
        dataset: WeightSpec(
            url=_HF + filename,
            config=config,
            description=f"{dataset}, KietzmannLab release on the Hugging Face hub",
            licence="MIT",  # the LICENSE of KietzmannLab/BLT-VS, whose README lists these files as its shipped models
            source="https://github.com/KietzmannLab/BLT-VS",
            citation=CITATION,
            parameters={"imagenet": 34_989_732, "ecoset": 27_332_427}[dataset],  # the README: 34.9 M, 27.3 M
        )
    }


def blt_vs_card(
    dataset: str,
    *,
    timesteps: int,
    num_classes: int,
    bio_unroll: bool,
    image_size: int,
    skip_connections: bool = True,
    readout_type: str = "multi",
    **_,
) -> ModelCard:
    arrival = arrival_steps(bio_unroll=bio_unroll, skip_connections=skip_connections)
    areas = []
    for n, name in enumerate(AREAS):
        silent = tuple(range(min(arrival[n], timesteps)))
        if bio_unroll:
            bins = tuple(
                None if t in silent else (_BIO_START_MS + _BIO_STEP_MS * t, _BIO_START_MS + _BIO_STEP_MS * (t + 1))
                for t in range(timesteps)
            )
        else:
            bins = uniform_bins(_SWEEP_LATENCY_MS[n], _SWEEP_STEP_MS, timesteps)
        taps = {"bu": f"connections.{name}.output_bu", "td": f"connections.{name}.output_td"}
        areas.append(Area(name, taps, bins, silent, region=_CARD_REGIONS.get(name)))
    first = arrival[-1]
    readouts = 1 if readout_type == "single" else max(timesteps - first, 0)
    if bio_unroll:
        schedule = (
            f"biological unrolling: areas update from the previous step; readouts at steps {first}-"
            f"{timesteps - 1}; one step = {_BIO_STEP_MS:g} ms from {_BIO_START_MS:g} ms"
        )
    else:
        schedule = (
            f"sweep unrolling: BU sweep, Readout, TD sweep per step; readouts at steps 0-{timesteps - 1}; "
            f"step 0 at each area's latency ({', '.join(f'{a} {ms:g}' for a, ms in zip(AREAS, _SWEEP_LATENCY_MS))} "
            f"ms), then {_SWEEP_STEP_MS:g} ms per step"
        )
    notes = (
        schedule,
        "Each area has a bottom-up ('bu') and a top-down ('td') stream; record(..., stream='all') returns both.",
        "An area not reached yet (its image-independent steps) records zeros; Retina's TD map is the constant "
        "bias of its layer_norm_td in sweep mode and zeros in biological mode.",
        "224 px = 5 degrees; preprocessing: resize the short side to 224, centre-crop, scale to [-1, 1].",
        "In sweep mode the V4->V1 TD skip is unused, as in the original; fix_td_skip_bug=True enables it.",
        "Brain-Score regions as Brain-Score's BLT-VS plugin maps them: V1 -> V1, V2 -> V3, V4 -> V1, IT -> V4 "
        "(its automatic layer selection, not anatomy).",
    )
    return ModelCard(
        name=f"blt_vs_{dataset}",
        family="blt_vs",
        areas=tuple(areas),
        input_size=image_size,
        visual_degrees=5,
        num_classes=num_classes,
        preprocessing="minus_one_one",
        citation=CITATION,
        weights=_weights(dataset, image_size),
        readout_steps=readouts,
        labels=dataset,
        notes=notes,
        description="BLT-VS: recurrent bottom-up / lateral / top-down model of the ventral stream",
    )


def _register(name: str, dataset: str, image_size: int) -> None:
    default_steps, default_classes, default_bio, _ = DATASETS[dataset]

    def card(
        *,
        timesteps: int = default_steps,
        num_classes: int = default_classes,
        bio_unroll: bool = default_bio,
        image_size: int = image_size,
        **config,
    ) -> ModelCard:
        return blt_vs_card(
            dataset,
            timesteps=timesteps,
            num_classes=num_classes,
            bio_unroll=bio_unroll,
            image_size=image_size,
            **config,
        )

    def build(
        *,
        timesteps: int = default_steps,
        num_classes: int = default_classes,
        add_feats: int = 100,
        lateral_connections: bool = True,
        topdown_connections: bool = True,
        skip_connections: bool = True,
        bio_unroll: bool = default_bio,
        image_size: int = image_size,
        readout_type: str = "multi",
        fix_td_skip_bug: bool = False,
        reuse: bool = True,
        precision: str = "fp32",
    ) -> BLTVS:
        return BLTVS(
            timesteps=timesteps,
            num_classes=num_classes,
            add_feats=add_feats,
            lateral_connections=lateral_connections,
            topdown_connections=topdown_connections,
            skip_connections=skip_connections,
            bio_unroll=bio_unroll,
            image_size=image_size,
            readout_type=readout_type,
            fix_td_skip_bug=fix_td_skip_bug,
            reuse=reuse,
            precision=precision,
        )

    build.__name__ = name
    register_model(name, card=card)(build)


_register("blt_vs_imagenet", "imagenet", 224)
_register("blt_vs_ecoset", "ecoset", 224)
_register("blt_vs_imagenet_128", "imagenet", 128)
_register("blt_vs_ecoset_128", "ecoset", 128)
