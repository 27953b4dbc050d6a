"""Blood counts after infusion and the ICAHT grades and count recovery computed from them.

Grading is `cartflow.clinical.icaht` (EHA/EBMT 2023 for neutropenia, T-ICAHT table for
thrombocytopenia; CIBMTR/ASTCT recovery definitions). Days are counted from the infusion date at
the treating center; the series is censored at the first progression, relapse or death on record
(the consensus also censors at new therapy, which cartflow does not record yet).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.errors import ClinicalRuleRefused, denied
from cartflow.clinical.icaht import (
    CountSample,
    anc_recovery,
    early_neutrophil_icaht,
    early_platelet_icaht,
    late_neutrophil_icaht,
    late_platelet_icaht,
    platelet_recovery,
)
from cartflow.clinical.schemas_after import BloodCountsIn, IcahtOut
from cartflow.clinical.service import (
    CLINICAL_READERS,
    CLINICIANS,
    audit,
    clinical_episode,
    infusion_date,
)
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.models.clinical_outcome import DeathRecord, DiseaseEvent
from cartflow.models.clinical_toxicity import BloodCount


def record_blood_counts(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, data: BloodCountsIn
) -> list[BloodCount]:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICIANS, action=_("blood counts")
    )
    records = []
    for index, count in enumerate(data.counts):
        if count.anc_per_ul is None and count.platelets_10e9_per_l is None:
            raise InvalidInput(
                _("a count needs anc_per_ul or platelets_10e9_per_l"), field=f"counts.{index}"
            )
        record = BloodCount(
            episode_id=episode.id,
            sampled_on=count.sampled_on,
            anc_per_ul=count.anc_per_ul,
            platelets_10e9_per_l=count.platelets_10e9_per_l,
            platelet_transfusion=count.platelet_transfusion,
            recorded_by_id=actor.id,
        )
        session.add(record)
        audit(session, actor=actor, record_type="blood_count", record=record, action="create")
        records.append(record)
    return records


def censor_date(session: Session, episode_id: uuid.UUID) -> dt.date | None:
    """The first progression, relapse or death on record."""
    dates = list(
        session.execute(
            select(DiseaseEvent.occurred_on).where(DiseaseEvent.episode_id == episode_id)
        ).scalars()
    ) + list(
        session.execute(
            select(DeathRecord.died_on).where(DeathRecord.episode_id == episode_id)
        ).scalars()
    )
    return min(dates, default=None)


def icaht(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> IcahtOut:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    day0 = infusion_date(session, episode)
    if day0 is None:
        raise ClinicalRuleRefused.from_denied(
            denied("ICAHT-NO-INFUSION", _("ICAHT is graded from the infusion date; none on record"))
        )
    counts = list(
        session.execute(
            select(BloodCount)
            .where(BloodCount.episode_id == episode.id)
            .order_by(BloodCount.sampled_on)
        ).scalars()
    )
    anc = [
        CountSample(on=c.sampled_on, value=c.anc_per_ul) for c in counts if c.anc_per_ul is not None
    ]
    plt = [
        CountSample(on=c.sampled_on, value=c.platelets_10e9_per_l)
        for c in counts
        if c.platelets_10e9_per_l is not None
    ]
    transfusions = [c.sampled_on for c in counts if c.platelet_transfusion]
    censor = censor_date(session, episode.id)
    post = [s for s in anc if s.on >= day0]
    post_plt = [s for s in plt if s.on >= day0]
    return IcahtOut(
        episode_id=episode.id,
        infusion_date=day0,
        censored_on=censor,
        early_neutrophil=early_neutrophil_icaht(anc, infusion=day0, censor_on=censor),
        late_neutrophil=late_neutrophil_icaht(anc, infusion=day0, censor_on=censor),
        early_platelet=early_platelet_icaht(plt, infusion=day0, censor_on=censor),
        late_platelet=late_platelet_icaht(plt, infusion=day0, censor_on=censor),
        anc_recovery=anc_recovery(post),
        platelet_recovery=platelet_recovery(post_plt, transfusions),
    )
