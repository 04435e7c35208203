"""Constants of the Marques et al. (2021) V1 protocol, as used by Brain-Score's Marques2020 benchmarks.

Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that bridge
from single neurons in the primate primary visual cortex to object recognition behavior. bioRxiv
2021.03.01.433495. Values read from brain-score/vision@c642dbe4 (`benchmark_helpers/properties_common.py`,
`benchmarks/marques2020/`); see `data/SOURCES.md`.
"""

from __future__ import annotations

from dataclasses import dataclass

TIME_BIN_MS = (70.0, 170.0)

# Receptive-field mapping and unit selection.
RF_THRESHOLD = 0.05  # fraction of a unit's peak that counts as part of its RF
RF_DELTA_DEG = 0.15  # max distance of the RF centre from the stimulus centre

# Affine map from activations to firing rates (spikes/s, V1).
MEDIAN_MAX_RESPONSE = 33.8
MEDIAN_SPONTANEOUS = 0.82
SINGLE_MAX_RESPONSE = 243.1
RESPONSE_THRESHOLD = 5.0  # a unit must exceed its baseline by this much to count as responsive

ORIENTATION_BANDWIDTH_THRESHOLD = 0.707
PREFERRED_ORIENTATION_THRESHOLD = 0.5
SF_BANDWIDTH_THRESHOLD = 0.707
SURROUND_SUPPRESSION_THRESHOLD = 0.1
GSF_FRACTION = 0.95
SURROUND_PLATEAU_FRACTION = 0.05

BOOTSTRAP_SAMPLES = 1000
MAX_NAN_SAMPLES = 100  # more NaN similarities than this and the score is 0


@dataclass(frozen=True)
class Benchmark:
    """One Marques2020 benchmark: a property measured on a stimulus set and compared with a dataset."""

    identifier: str
    group: str
    dataset: str
    property: str
    stimulus_set: str


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "Marques2020_Ringach2002-circular_variance", "V1-orientation", "Ringach2002", "circular_variance", "orientation"
    ),
    Benchmark("Marques2020_Ringach2002-or_bandwidth", "V1-orientation", "Ringach2002", "bandwidth", "orientation"),
    Benchmark(
        "Marques2020_Ringach2002-orth_pref_ratio",
        "V1-orientation",
        "Ringach2002",
        "orthogonal_preferred_ratio",
        "orientation",
    ),
    Benchmark(
        "Marques2020_Ringach2002-or_selective", "V1-orientation", "Ringach2002", "orientation_selective", "orientation"
    ),
    Benchmark(
        "Marques2020_Ringach2002-cv_bandwidth_ratio",
        "V1-orientation",
        "Ringach2002",
        "circular_variance_bandwidth_ratio",
        "orientation",
    ),
    Benchmark(
        "Marques2020_Ringach2002-opr_cv_diff",
        "V1-orientation",
        "Ringach2002",
        "orthogonal_preferred_ratio_circular_variance_difference",
        "orientation",
    ),
    Benchmark(
        "Marques2020_DeValois1982-pref_or", "V1-orientation", "DeValois1982a", "preferred_orientation", "orientation"
    ),
    Benchmark(
        "Marques2020_DeValois1982-peak_sf",
        "V1-spatial_frequency",
        "DeValois1982b",
        "peak_spatial_frequency",
        "spatial_frequency",
    ),
    Benchmark(
        "Marques2020_Schiller1976-sf_selective",
        "V1-spatial_frequency",
        "Schiller1976c",
        "spatial_frequency_selective",
        "spatial_frequency",
    ),
    Benchmark(
        "Marques2020_Schiller1976-sf_bandwidth",
        "V1-spatial_frequency",
        "Schiller1976c",
        "spatial_frequency_bandwidth",
        "spatial_frequency",
    ),
    Benchmark(
        "Marques2020_Ringach2002-modulation_ratio",
        "V1-response_selectivity",
        "Ringach2002",
        "modulation_ratio",
        "orientation",
    ),
    Benchmark(
        "Marques2020_FreemanZiemba2013-texture_selectivity",
        "V1-response_selectivity",
        "FreemanZiemba2013",
        "texture_selectivity",
        "textures",
    ),
    Benchmark(
        "Marques2020_FreemanZiemba2013-texture_sparseness",
        "V1-response_selectivity",
        "FreemanZiemba2013",
        "texture_sparseness",
        "textures",
    ),
    Benchmark(
        "Marques2020_FreemanZiemba2013-texture_variance_ratio",
        "V1-response_selectivity",
        "FreemanZiemba2013",
        "variance_ratio",
        "textures",
    ),
    Benchmark(
        "Marques2020_Cavanaugh2002-grating_summation_field",
        "V1-receptive_field_size",
        "Cavanaugh2002a",
        "grating_summation_field",
        "size",
    ),
    Benchmark(
        "Marques2020_Cavanaugh2002-surround_diameter",
        "V1-receptive_field_size",
        "Cavanaugh2002a",
        "surround_diameter",
        "size",
    ),
    Benchmark(
        "Marques2020_Cavanaugh2002-surround_suppression_index",
        "V1-surround_modulation",
        "Cavanaugh2002a",
        "surround_suppression_index",
        "size",
    ),
    Benchmark(
        "Marques2020_FreemanZiemba2013-texture_modulation_index",
        "V1-texture_modulation",
        "FreemanZiemba2013",
        "texture_modulation_index",
        "textures",
    ),
    Benchmark(
        "Marques2020_FreemanZiemba2013-abs_texture_modulation_index",
        "V1-texture_modulation",
        "FreemanZiemba2013",
        "absolute_texture_modulation_index",
        "textures",
    ),
    Benchmark("Marques2020_Ringach2002-max_dc", "V1-response_magnitude", "Ringach2002", "max_dc", "orientation"),
    Benchmark(
        "Marques2020_FreemanZiemba2013-max_texture",
        "V1-response_magnitude",
        "FreemanZiemba2013",
        "max_texture",
        "textures",
    ),
    Benchmark(
        "Marques2020_FreemanZiemba2013-max_noise", "V1-response_magnitude", "FreemanZiemba2013", "max_noise", "textures"
    ),
)

GROUPS: tuple[str, ...] = tuple(dict.fromkeys(b.group for b in BENCHMARKS))

TEXTURES_NOT_MEASURED = (
    "the FreemanZiemba2013 texture and noise images (Freeman et al. 2013) are not public; "
    "Brain-Score fetches them from a private S3 bucket"
)
RINGACH_NOT_SCORED = (
    "only the bin edges of the Ringach et al. (2002) histograms are public; the model's "
    "distribution is reported on those bins"
)
