"""Reference data of the demo network.

Facility identification numbers are the ISBT 128 standard's own examples (A9999, A9998 in ICCBBA
ST-001); a real site needs its own ICCBBA-licensed FIN. Product codes are placeholders in the
cellular-therapy range (they begin with "S"); a real product needs its ICCBBA product description
code. Product times follow the sources in shared reference §4.1-4.5: a CliniMACS Prodigy process
takes 12-13 days (Cytotherapy 2018, PMID 29287970); tisagenlecleucel "usually about 3-4 weeks"
from receipt to release (EU SmPC), stored at or below -120 °C and infused within 30 minutes of
thawing (US label). NMRC of Hematology makes up to 600 products a year: 600 x 12 device-days / 365
needs about 20 devices busy every day, so the demo site has 22.
"""

from __future__ import annotations

from cartflow.models import Diagnosis, PatientPopulation, ProductKind
from cartflow.network.schemas import (
    CenterIn,
    DeviceIn,
    IndicationIn,
    ProductIn,
    RouteIn,
    SiteIn,
    SpecificationIn,
)

NMRC_SITE = "NMRC-HEM-GMP"
NOVARTIS_SITE = "NVS-STEIN"

SITES = [
    SiteIn(
        code=NMRC_SITE,
        name="National Medical Research Center for Hematology, GMP cell manufacturing",
        city="Moscow",
        country="RU",
        timezone="Europe/Moscow",
        facility_identification_number="A9999",
        qc_release_capacity_per_day=4,
        devices=[DeviceIn(code=f"PRODIGY-{n:02d}", kind="CliniMACS Prodigy") for n in range(1, 23)],
    ),
    SiteIn(
        code=NOVARTIS_SITE,
        name="Novartis Pharma Stein AG (commercial tisagenlecleucel)",
        city="Stein",
        country="CH",
        timezone="Europe/Zurich",
        facility_identification_number="A9998",
        qc_release_capacity_per_day=20,
        devices=[DeviceIn(code=f"SUITE-{n:02d}", kind="clean-room suite") for n in range(1, 5)],
    ),
]


def _routes(nmrc_days: int, abroad_days: int) -> list[RouteIn]:
    return [
        RouteIn(site=NMRC_SITE, transit_days=nmrc_days, courier_weekdays="12345"),
        RouteIn(site=NOVARTIS_SITE, transit_days=abroad_days, courier_weekdays="1234"),
    ]


CENTERS = [
    CenterIn(
        code="NMRC-HEM",
        name="NMRC of Hematology",
        city="Moscow",
        population=PatientPopulation.ADULT,
        apheresis_chairs_per_day=3,
        infusion_beds_per_day=6,
        routes=_routes(0, 4),
    ),
    CenterIn(
        code="MOROZOV",
        name="Morozov Children's City Hospital",
        city="Moscow",
        population=PatientPopulation.PEDIATRIC,
        apheresis_chairs_per_day=1,
        infusion_beds_per_day=3,
        routes=_routes(1, 4),
    ),
    CenterIn(
        code="ROGACHEV",
        name="Dmitry Rogachev NMRC of Pediatric Hematology, Oncology and Immunology",
        city="Moscow",
        population=PatientPopulation.PEDIATRIC,
        apheresis_chairs_per_day=2,
        infusion_beds_per_day=4,
        routes=_routes(1, 4),
    ),
    CenterIn(
        code="BLOKHIN",
        name="N.N. Blokhin NMRC of Oncology",
        city="Moscow",
        population=PatientPopulation.BOTH,
        apheresis_chairs_per_day=2,
        infusion_beds_per_day=4,
        routes=_routes(1, 4),
    ),
    CenterIn(
        code="RADIOLOGY",
        name="NMRC of Radiology",
        city="Obninsk",
        population=PatientPopulation.ADULT,
        apheresis_chairs_per_day=1,
        infusion_beds_per_day=2,
        routes=_routes(1, 4),
    ),
    CenterIn(
        code="PETROV",
        name="N.N. Petrov NMRC of Oncology",
        city="Saint Petersburg",
        population=PatientPopulation.BOTH,
        apheresis_chairs_per_day=2,
        infusion_beds_per_day=3,
        routes=_routes(1, 4),
    ),
]

_B_NHL = (
    Diagnosis.DLBCL,
    Diagnosis.PMBCL,
    Diagnosis.HGBCL,
    Diagnosis.FOLLICULAR_LYMPHOMA,
    Diagnosis.MANTLE_CELL_LYMPHOMA,
)

# Acceptance criteria of the academic products are those of the published point-of-care CD19
# product ARI-0001 (Castella et al. 2018, Table 2, PMC6319086); the schema is documented in
# cartflow.manufacturing.specs and the sources in docs/manufacturing.md.
_ACADEMIC_SPEC = SpecificationIn(
    criteria={
        "appearance": {"equals": "conforms", "description": "cloudy liquid solution"},
        "car_t_dose": {
            "basis": "per_kg",
            "min": 0.5e6,
            "description": "CAR+ cells > 0.5 x 10^6/kg (35 x 10^6 for a 70 kg patient)",
        },
        "car_positive_percent": {"min": 20},
        "cd3_positive_percent": {"min": 70},
        "viability_percent": {"min": 70},
        "sterility": {"equals": "no growth"},
        "mycoplasma": {"equals": "not detected"},
        "endotoxin_eu_per_ml": {"max": 0.5},
        "vector_copy_number_per_cell": {"max": 10},
        "replication_competent_lentivirus": {"equals": "not detected"},
    },
    source="ARI-0001 release specification (Castella et al. 2018, Table 2, PMC6319086)",
)

PRODUCTS = [
    ProductIn(
        code="GEMA",
        name="Gemagenleycleucel (academic anti-CD19 CAR-T)",
        inn="gemagenleycleucel",
        kind=ProductKind.ACADEMIC,
        holder="NMRC of Hematology",
        target_antigen="CD19",
        isbt_product_code="S1416100",
        manufacturing_site=NMRC_SITE,
        manufacturing_days=12,
        qc_days=7,
        shelf_life_days=180,
        storage_temperature_max_c=-150,
        post_thaw_window_minutes=60,
        fresh_apheresis_max_hours=48,
        indications=[IndicationIn(diagnosis=Diagnosis.B_ALL, min_age_years=18)]
        + [IndicationIn(diagnosis=d, min_age_years=18, min_prior_lines=2) for d in _B_NHL],
        specification=_ACADEMIC_SPEC,
    ),
    ProductIn(
        code="TISA",
        name="Kymriah (tisagenlecleucel)",
        inn="tisagenlecleucel",
        kind=ProductKind.COMMERCIAL,
        holder="Novartis",
        target_antigen="CD19",
        isbt_product_code="S1417100",
        manufacturing_site=NOVARTIS_SITE,
        manufacturing_days=10,
        qc_days=12,
        shelf_life_days=270,
        storage_temperature_max_c=-120,
        post_thaw_window_minutes=30,
        fresh_apheresis_max_hours=None,
        indications=[
            IndicationIn(
                diagnosis=Diagnosis.B_ALL,
                min_age_years=0,
                max_age_years=25,
                note="refractory, or in second or later relapse, or relapse after transplant",
            ),
            IndicationIn(diagnosis=Diagnosis.DLBCL, min_age_years=18, min_prior_lines=2),
            IndicationIn(
                diagnosis=Diagnosis.FOLLICULAR_LYMPHOMA, min_age_years=18, min_prior_lines=2
            ),
        ],
        specification=SpecificationIn(
            criteria={
                "viability_percent": {"min": 80},
                "car_t_dose": {
                    "bands": [
                        {
                            "basis": "per_kg",
                            "min": 0.2e6,
                            "max": 5.0e6,
                            "max_weight_kg": 50,
                            "diagnoses": ["B-ALL"],
                        },
                        {"basis": "flat", "min": 0.1e8, "max": 2.5e8, "diagnoses": ["B-ALL"]},
                        {"basis": "flat", "min": 0.6e8, "max": 6.0e8, "diagnoses": ["DLBCL", "FL"]},
                    ],
                    "description": "label dose by indication and weight",
                },
                "car_positive_percent": {"min": 10},
                "endotoxin_eu_per_ml": {"max": 5},
                "sterility": {"equals": "no growth"},
                "mycoplasma": {"equals": "not detected"},
            },
            source=(
                "Dose: Kymriah US prescribing information §2.1/§3; viability >= 80% per CIBMTR "
                "OOS analysis (Pasquini 2020); other limits are demo values"
            ),
        ),
    ),
    ProductIn(
        code="BCMA-ACAD",
        name="Academic anti-BCMA CAR-T",
        inn="not assigned",
        kind=ProductKind.ACADEMIC,
        holder="NMRC of Hematology",
        target_antigen="BCMA",
        isbt_product_code="S1418100",
        manufacturing_site=NMRC_SITE,
        manufacturing_days=12,
        qc_days=7,
        shelf_life_days=180,
        storage_temperature_max_c=-150,
        post_thaw_window_minutes=60,
        fresh_apheresis_max_hours=48,
        indications=[
            IndicationIn(diagnosis=Diagnosis.MULTIPLE_MYELOMA, min_age_years=18, min_prior_lines=3)
        ],
        specification=_ACADEMIC_SPEC,
    ),
]
