"""Default area commitments (V1/V2/V4/IT -> module path) of torchvision classification models.

Sources, per family:
- alexnet: Brain-Score's alexnet model plugin, `brainscore_vision/models/alexnet/region_layer_map/alexnet.json`
  (github.com/brain-score/vision): V1 features.2, V2 features.7, V4 features.7, IT features.12. The plugin is
  torchvision's alexnet with its ImageNet weights (`pretrained=True`, i.e. IMAGENET1K_V1).
- resnet50: Brain-Score's resnet_50_v1 model plugin, `brainscore_vision/models/resnet_50_v1/region_layer_map/
  resnet_50_v1.json`: V1 layer2.3, V2 layer3.0, V4 layer2.3, IT layer4.0 (the plugin's layer search result over
  conv1, every bottleneck block layer1.0..layer4.2 and avgpool). The plugin (`model.py`) is torchvision's
  resnet50 with `weights='IMAGENET1K_V1'`, the weights of our `resnet50` baseline (`torchvision:resnet50`
  defaults to torchvision's IMAGENET1K_V2 weights, on which the map was not searched).
  Both plugins preprocess with Brain-Score's `load_preprocess_images(image_size=224)`: the whole image squashed
  to 224 x 224, ImageNet mean and std (brainlike's "imagenet" preset). The cards keep torchvision's eval
  transform of those weights (resize 256, centre crop 224: "imagenet_crop"), so scores can differ slightly
  from Brain-Score's for the same layers.
- every other ResNet / ResNeXt / wide ResNet: ours, one stage per area (layer1..layer4).
- VGG: ours, the outputs of the 2nd..5th max-pool (one per area), computed from torchvision's configurations.
- DenseNet: ours, transition1..3 and the final norm5.
Other architectures have no default commitment: name areas with `brainlike.wrap(model, areas=...)`, or read
any module path with `record(model, x, layers=[...])`.
"""

from __future__ import annotations

BRAINSCORE = "Brain-Score model plugin region_layer_map ({})"
OURS = "ours"

_VGG_CONFIG = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
_RESNETS = ("resnet18", "resnet34", "resnet101", "resnet152", "resnext", "wide_resnet")


def commitment(name: str) -> tuple[dict[str, str], str] | None:
    """({area: module path}, source) for a torchvision model name, or None when we commit none."""
    if name == "alexnet":
        return {"V1": "features.2", "V2": "features.7", "V4": "features.7", "IT": "features.12"}, BRAINSCORE.format(
            "alexnet"
        )
    if name == "resnet50":
        return {"V1": "layer2.3", "V2": "layer3.0", "V4": "layer2.3", "IT": "layer4.0"}, BRAINSCORE.format(
            "resnet_50_v1"
        )
    if name.startswith(_RESNETS):
        return {"V1": "layer1", "V2": "layer2", "V4": "layer3", "IT": "layer4"}, OURS
    if name.removesuffix("_bn") in _VGG_CONFIG:
        pools = _vgg_pools(name)
        return dict(zip(("V1", "V2", "V4", "IT"), (f"features.{i}" for i in pools[1:5]), strict=True)), OURS
    if name.startswith("densenet"):
        areas = {"V1": "features.transition1", "V2": "features.transition2", "V4": "features.transition3"}
        return {**areas, "IT": "features.norm5"}, OURS
    return None


def _vgg_pools(name: str) -> list[int]:
    """Indices in `features` of the max-pools of a torchvision VGG (conv, [bn,] relu per number; pool per M)."""
    from torchvision.models.vgg import cfgs

    per_conv = 3 if name.endswith("_bn") else 2
    index, pools = 0, []
    for item in cfgs[_VGG_CONFIG[name.removesuffix("_bn")]]:
        if item == "M":
            pools.append(index)
            index += 1
        else:
            index += per_conv
    return pools
