"""What each band of a raster is (blue, green, red, NIR, SWIR), read from the file itself.

Three things in a file say what a band holds; the first that speaks for a band wins:

1. its description naming the colour: 'blue', 'green', 'red', 'NIR' / 'near infrared' /
   'near-infrared', 'SWIR1' / 'SWIR 1' / 'SWIR' and 'SWIR2' / 'SWIR 2' as whole words, in
   any case ('green (B03)', 'Band 4 - NIR'); 'red edge' is not red. A description that is
   exactly a Sentinel-2 band name counts too: B02 blue, B03 green, B04 red, B08 and B8A NIR;
   so does one that also says 'Sentinel-2', 'S2' or 'MSI' ('Sentinel-2 B8A'), and only then
   B11 SWIR1 and B12 SWIR2 (Landsat 8's B11 is thermal). Landsat names ('B3') are not read: band 3 is green on
   Landsat 8/9 and red on Landsat 5/7;
2. its central wavelength: the IMAGERY domain's CENTRAL_WAVELENGTH_UM (GDAL ≥ 3.10 sets it
   for many sensors), else a `wavelength` item of the default domain (ENVI headers, GDAL's
   SENTINEL2 driver) with its `wavelength_units`/`wavelength_unit` (nm or µm; without a unit,
   a value above 100 is taken as nm);
3. its colour interpretation (GCI_BlueBand, GCI_GreenBand, GCI_RedBand).

When two bands have the same role, the lower band number takes it.
"""

import re

from osgeo import gdal

from .reading import data_bands

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
ROLE_NAMES = {"blue": "blue", "green": "green", "red": "red", "nir": "NIR", "swir1": "SWIR1", "swir2": "SWIR2"}

# Central wavelength ranges in µm (Landsat, Sentinel-2, MODIS, PlanetScope and the usual
# aerial cameras fall inside); red edge (0.70–0.76) and thermal bands get no role.
WAVELENGTH_RANGES_UM = (
    ("blue", 0.43, 0.52),
    ("green", 0.52, 0.60),
    ("red", 0.60, 0.70),
    ("nir", 0.76, 1.00),
    ("swir1", 1.50, 1.80),
    ("swir2", 2.00, 2.40),
)

_DESCRIPTION_WORDS = (
    ("nir", r"\bnir\b|\bnear[\s_-]*infra[\s_-]*red\b"),
    ("swir1", r"\bswir[\s_-]*1\b|\bswir\b(?![\s_-]*2)"),
    ("swir2", r"\bswir[\s_-]*2\b"),
    ("blue", r"\bblue\b"),
    ("green", r"\bgreen\b"),
    ("red", r"\bred\b(?![\s_-]*edge)"),
)
_SENTINEL2_NAMES = {"b02": "blue", "b03": "green", "b04": "red", "b08": "nir", "b8a": "nir"}
_SENTINEL2_SWIR_NAMES = {"b11": "swir1", "b12": "swir2"}
_SENTINEL2_WORDS = r"\bsentinel[\s_-]*2|\bs2[ab]?\b|\bmsi\b"

_COLOR_INTERPRETATIONS = {gdal.GCI_BlueBand: "blue", gdal.GCI_GreenBand: "green", gdal.GCI_RedBand: "red"}


def role_from_description(description):
    """The role a band description names, or None."""
    text = (description or "").strip().lower()
    if not text:
        return None
    for role, pattern in _DESCRIPTION_WORDS:
        if re.search(pattern, text):
            return role
    says_sentinel2 = re.search(_SENTINEL2_WORDS, text) is not None
    for word in re.findall(r"\bb\d[\da]\b", text):
        if word in _SENTINEL2_NAMES and (text == word or says_sentinel2):
            return _SENTINEL2_NAMES[word]
        if word in _SENTINEL2_SWIR_NAMES and says_sentinel2:
            return _SENTINEL2_SWIR_NAMES[word]
    return None


def central_wavelength_um(band):
    """The band's central wavelength in µm from its metadata, or None."""
    imagery = band.GetMetadataItem("CENTRAL_WAVELENGTH_UM", "IMAGERY")
    if imagery:
        return _number(imagery)
    items = {key.lower(): value for key, value in (band.GetMetadata() or {}).items()}
    value = _number(items.get("wavelength"))
    if value is None:
        return None
    unit = (items.get("wavelength_units") or items.get("wavelength_unit") or "").strip().lower()
    if unit in ("nm", "nanometer", "nanometers", "nanometre", "nanometres"):
        return value / 1000
    if unit in ("um", "µm", "μm", "micrometer", "micrometers", "micrometre", "micrometres", "micron", "microns"):
        return value
    return value / 1000 if value > 100 else value


def role_from_wavelength(wavelength_um):
    if wavelength_um is None:
        return None
    for role, low, high in WAVELENGTH_RANGES_UM:
        if low <= wavelength_um < high:
            return role
    return None


def band_role_sources(dataset):
    """{band number: (role, how it is known)} for every band with a role."""
    found = {}
    for number in range(1, dataset.RasterCount + 1):
        band = dataset.GetRasterBand(number)
        wavelength = central_wavelength_um(band)
        candidates = (
            (role_from_description(band.GetDescription()), "band description"),
            (role_from_wavelength(wavelength), "wavelength metadata"),
            (_COLOR_INTERPRETATIONS.get(band.GetColorInterpretation()), "colour interpretation"),
        )
        for role, source in candidates:
            if role:
                found[number] = (role, source)
                break
    return found


def band_roles(dataset):
    """{role: band number} for the roles the file names (roles: blue, green, red, nir, swir1, swir2)."""
    roles = {}
    for number, (role, _) in sorted(band_role_sources(dataset).items()):
        roles.setdefault(role, number)
    return roles


def describe_roles(dataset, roles):
    """'green = band 2, NIR = band 4 (band description)': which bands and how they are known."""
    sources = band_role_sources(dataset)
    return ", ".join(
        f"{ROLE_NAMES[role]} = band {roles[role]} ({sources[roles[role]][1]})"
        for role in ROLES if role in roles
    )


def default_training_bands(dataset):
    """(bands, reason): green, red and NIR when the file names all three, else every band."""
    roles = band_roles(dataset)
    wanted = ("green", "red", "nir")
    if all(role in roles for role in wanted):
        chosen = {role: roles[role] for role in wanted}
        return [chosen[role] for role in wanted], (
            f"Using green, red and NIR as the file names them: {describe_roles(dataset, chosen)}."
        )
    bands = data_bands(dataset)  # alpha bands are transparency, not data
    missing = ", ".join(ROLE_NAMES[role] for role in wanted if role not in roles)
    return bands, (
        f"Using all {len(bands)} band{'s' if len(bands) != 1 else ''}: the file does not say which band is "
        f"{missing} (no band description, wavelength or colour interpretation names it)."
    )


def _number(text):
    try:
        return float(str(text).strip().split()[0])
    except (ValueError, IndexError):
        return None
