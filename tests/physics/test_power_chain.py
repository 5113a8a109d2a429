import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from dcsim.catalog.equipment import (
    PDU,
    Transformer,
    UPSCurve,
    load_power_equipment,
)
from dcsim.errors import ConfigError
from dcsim.physics.power_chain import (
    TOPOLOGY_2N,
    TOPOLOGY_CODES,
    TOPOLOGY_N,
    TOPOLOGY_N_PLUS_1,
    feed_power_w,
    it_limit_for_feed_w,
    it_limit_for_site_w,
    pdu_loss_w,
    transformer_loss_w,
    ups_efficiency_frac,
    ups_loss_w,
    ups_modules_sharing,
)


@pytest.fixture(scope="module")
def equipment():
    eq = load_power_equipment()
    ups, pdu, xfmr = eq["ups_double_conversion"], eq["pdu_busway"], eq["transformer_mv_lv"]
    return {
        "pdu_eff": pdu.efficiency_frac.value,
        "a": (ups.a0_frac.value, ups.a1_frac.value, ups.a2_frac.value),
        "nl": xfmr.no_load_frac.value,
        "ll": xfmr.load_loss_frac.value,
        "ups": ups,
    }


def _chain_args(eq, modules, xfmr_rated_w):
    # feed_power_w arguments after (it_w, mech_w), 1.2 MW UPS modules, catalog coefficients.
    return (eq["pdu_eff"], 1.2e6, modules, *eq["a"], xfmr_rated_w, eq["nl"], eq["ll"])


# --- catalog -----------------------------------------------------------------------------


def test_catalog_entries_typed_and_sourced():
    eq = load_power_equipment()
    assert isinstance(eq["ups_double_conversion"], UPSCurve)
    assert isinstance(eq["pdu_busway"], PDU)
    assert isinstance(eq["transformer_mv_lv"], Transformer)
    assert eq["ups_double_conversion"].a0_frac.confidence == "fit"
    assert 0.99 <= eq["pdu_busway"].efficiency_frac.value <= 0.995  # brief: 0.99-0.995
    assert all(entry.name for entry in eq.values())


def test_catalog_rejects_bad_entry(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "p:\n  type: pdu\n  name: x\n  efficiency_frac: {value: 1.5, source: test, confidence: U}\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml: p\.pdu\.efficiency_frac"):
        load_power_equipment(bad)


def test_ups_fit_reproduces_its_points(equipment):
    # The catalog states the points the coefficients were fitted to; the rounded coefficients
    # must reproduce them to within 0.05 percentage points.
    ups = equipment["ups"]
    assert len(ups.fit_points) == 4
    for p in ups.fit_points:
        eta = ups_efficiency_frac(p.load_frac, *equipment["a"])
        assert eta == pytest.approx(p.efficiency_frac, abs=5e-4)


def test_ups_efficiency_in_published_band_and_falls_at_part_load(equipment):
    a = equipment["a"]
    # facility.md: double-conversion UPS 92-97% efficient, lower at part load.
    for x in (0.25, 0.5, 0.75, 1.0):
        assert 0.92 <= ups_efficiency_frac(x, *a) <= 0.97
    etas = [ups_efficiency_frac(x, *a) for x in (0.1, 0.25, 0.5, 0.75, 1.0)]
    assert np.all(np.diff(etas) > 0)

    # 2N at its design load: each side at 50% is less efficient than one module at 100%.
    rated_w = 1.0e6
    it_w = rated_w
    loss_2n = ups_loss_w(it_w, rated_w, ups_modules_sharing(TOPOLOGY_2N, 1), *a)
    loss_n = ups_loss_w(it_w, rated_w, ups_modules_sharing(TOPOLOGY_N, 1), *a)
    eta_2n = it_w / (it_w + loss_2n)
    eta_n = it_w / (it_w + loss_n)
    assert eta_2n < eta_n
    assert eta_2n == pytest.approx(ups_efficiency_frac(0.5, *a), rel=1e-12)


def test_transformer_efficiency_at_rated_in_published_band(equipment):
    # facility.md: MV/LV transformer 98.5-99.5%. Hand: 1 / (1 + 0.002 + 0.010) = 0.98814.
    rated_w = 2.5e6
    loss = transformer_loss_w(rated_w, rated_w, equipment["nl"], equipment["ll"])
    eta = rated_w / (rated_w + loss)
    assert 0.985 <= eta <= 0.995
    assert eta == pytest.approx(1.0 / 1.012, rel=1e-12)


# --- hand calculations ---------------------------------------------------------------------


def test_pdu_loss_hand():
    # 1 MW delivered at 99%: drawn 1e6 / 0.99 = 1,010,101.0101 W, loss 10,101.0101 W.
    assert pdu_loss_w(1.0e6, 0.99) == pytest.approx(10101.0101, abs=1e-4)
    assert pdu_loss_w(1.0e6, 1.0) == 0.0


def test_ups_modules_sharing():
    assert ups_modules_sharing(TOPOLOGY_N, 3) == 3
    assert ups_modules_sharing(TOPOLOGY_N_PLUS_1, 3) == 4
    assert ups_modules_sharing(TOPOLOGY_2N, 3) == 6
    assert TOPOLOGY_CODES["2N"] == TOPOLOGY_2N
    with pytest.raises(ValueError, match="unknown topology"):
        ups_modules_sharing(7, 3)


def test_ups_loss_hand_2n_pair():
    # 1 MW through a 2N pair of 1.2 MW modules, a0=0.01, a1=0.02, a2=0.02:
    # each module carries 0.5 MW, x = 0.5/1.2 = 0.416667;
    # per module: 1.2e6 * (0.01 + 0.02*0.416667 + 0.02*0.173611) = 1.2e6 * 0.0218056
    #           = 26,166.67 W; two modules: 52,333.33 W (5.23% of load, eta = 95.03%).
    loss = ups_loss_w(1.0e6, 1.2e6, 2, 0.01, 0.02, 0.02)
    assert loss == pytest.approx(52333.33, abs=0.01)


def test_ups_loss_n_plus_1_hand():
    # 3 MW on N+1 with N = 3 modules of 1.2 MW: 4 modules at x = 0.75/1.2 = 0.625:
    # per module 1.2e6 * (0.01 + 0.0125 + 0.0078125) = 36,375 W; four: 145,500 W.
    n = ups_modules_sharing(TOPOLOGY_N_PLUS_1, 3)
    assert ups_loss_w(3.0e6, 1.2e6, n, 0.01, 0.02, 0.02) == pytest.approx(145500.0, rel=1e-12)


def test_transformer_loss_hand():
    # 2 MW through 2.5 MW: x = 0.8; 2.5e6 * (0.002 + 0.01 * 0.64) = 21,000 W.
    assert transformer_loss_w(2.0e6, 2.5e6, 0.002, 0.01) == pytest.approx(21000.0, rel=1e-12)


def test_feed_power_hand():
    # IT 1 MW, mech 0.2 MW, PDU 99%, UPS 2N of 1.2 MW modules (a = 0.01, 0.02, 0.02),
    # transformer 2.5 MW (0.2% / 1%).
    # PDU loss 10,101.0101; UPS output 1,010,101.0101; x = 1,010,101.0101 / 2.4e6 = 0.42087542
    # UPS loss = 2.4e6 * (0.01 + 0.02*0.42087542 + 0.02*0.17713612) = 2.4e6 * 0.02196023
    #          = 52,704.55 W
    # transformer load = 1,010,101.01 + 52,704.55 + 200,000 = 1,262,805.56 W; x_t = 0.50512223
    # transformer loss = 2.5e6 * (0.002 + 0.01 * 0.25514846) = 11,378.71 W
    # site = 1,262,805.56 + 11,378.71 = 1,274,184.27 W
    site, pdu, ups, xfmr = feed_power_w(
        1.0e6, 2.0e5, 0.99, 1.2e6, 2, 0.01, 0.02, 0.02, 2.5e6, 0.002, 0.01
    )
    assert pdu == pytest.approx(10101.01, abs=0.01)
    assert ups == pytest.approx(52704.55, abs=0.01)
    assert xfmr == pytest.approx(11378.71, abs=0.01)
    assert site == pytest.approx(1274184.27, abs=0.02)


# --- invariants ----------------------------------------------------------------------------


def test_energy_identity_vectorised(equipment):
    rng = np.random.default_rng(1)
    it_w = rng.uniform(0.0, 2.0e6, 500)
    mech_w = rng.uniform(0.0, 5.0e5, 500)
    args = _chain_args(equipment, modules=2, xfmr_rated_w=3.0e6)
    site, pdu, ups, xfmr = feed_power_w(it_w, mech_w, *args)
    assert_allclose(site, it_w + mech_w + pdu + ups + xfmr, rtol=1e-12)
    assert np.all(pdu >= 0) and np.all(ups > 0) and np.all(xfmr > 0)
    # Vectorised result equals the scalar one element by element.
    i = 17
    scalar = feed_power_w(it_w[i], mech_w[i], *args)
    assert scalar == (site[i], pdu[i], ups[i], xfmr[i])


def test_mech_bypasses_ups(equipment):
    args = _chain_args(equipment, modules=2, xfmr_rated_w=3.0e6)
    _, pdu0, ups0, xfmr0 = feed_power_w(1.0e6, 0.0, *args)
    _, pdu1, ups1, xfmr1 = feed_power_w(1.0e6, 4.0e5, *args)
    assert pdu1 == pdu0 and ups1 == ups0
    assert xfmr1 > xfmr0


@settings(max_examples=300, deadline=None)
@given(
    feed_limit_w=st.floats(1.0e5, 1.0e8),
    modules=st.integers(1, 40),
    a0=st.floats(0.0, 0.03),
    a1=st.floats(0.0, 0.05),
    a2=st.floats(0.0, 0.05),
    pdu_eff=st.floats(0.95, 1.0),
)
def test_it_limit_for_feed_inverts_feed_power(feed_limit_w, modules, a0, a1, a2, pdu_eff):
    rated_w = 1.5e6
    it_w = it_limit_for_feed_w(feed_limit_w, pdu_eff, rated_w, modules, a0, a1, a2)
    if feed_limit_w <= modules * rated_w * a0:
        assert it_w == 0.0
        return
    _, pdu, ups, _ = feed_power_w(it_w, 0.0, pdu_eff, rated_w, modules, a0, a1, a2, 1e9, 0, 0)
    ups_input_w = it_w + pdu + ups
    assert ups_input_w == pytest.approx(feed_limit_w, rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(site_limit_w=st.floats(1.0e6, 5.0e7), mech_frac=st.floats(0.0, 0.4))
def test_it_limit_for_site_inverts_feed_power(equipment, site_limit_w, mech_frac):
    mech_w = mech_frac * site_limit_w
    args = _chain_args(equipment, modules=30, xfmr_rated_w=6.0e7)
    it_w = it_limit_for_site_w(site_limit_w, mech_w, *args)
    assert it_w > 0.0
    site, *_ = feed_power_w(it_w, mech_w, *args)
    assert site == pytest.approx(site_limit_w, rel=1e-9)


def test_it_limit_zero_when_no_load_loss_exceeds_limit():
    # 2 x 1.2 MW at a0 = 1%: 24 kW drawn at zero load; a 20 kW limit leaves no IT budget.
    assert it_limit_for_feed_w(2.0e4, 0.99, 1.2e6, 2, 0.01, 0.02, 0.02) == 0.0


def test_it_limit_linear_ups_closed_form():
    # a2 = 0: F = n R a0 + (1 + a1) L -> L = (F - n R a0) / (1 + a1); IT = L * eta_pdu.
    # F = 1 MW, n R a0 = 2.4e6 * 0.01 = 24 kW -> L = 976,000 / 1.02 = 956,862.745 W;
    # IT = 0.99 * 956,862.745 = 947,294.118 W.
    it_w = it_limit_for_feed_w(1.0e6, 0.99, 1.2e6, 2, 0.01, 0.02, 0.0)
    assert it_w == pytest.approx(947294.1176, rel=1e-10)


# --- numba ---------------------------------------------------------------------------------

_SCALAR_CASES = [
    (pdu_loss_w, (1.0e6, 0.99)),
    (ups_modules_sharing, (TOPOLOGY_N_PLUS_1, 5)),
    (ups_loss_w, (1.0e6, 1.2e6, 2, 0.0117, 0.028, 0.0019)),
    (ups_efficiency_frac, (0.4, 0.0117, 0.028, 0.0019)),
    (transformer_loss_w, (2.0e6, 2.5e6, 0.002, 0.01)),
    (feed_power_w, (1.0e6, 2.0e5, 0.99, 1.2e6, 2, 0.0117, 0.028, 0.0019, 2.5e6, 0.002, 0.01)),
    (it_limit_for_feed_w, (1.0e6, 0.99, 1.2e6, 2, 0.0117, 0.028, 0.0019)),
    (
        it_limit_for_site_w,
        (2.0e6, 2.0e5, 0.99, 1.2e6, 2, 0.0117, 0.028, 0.0019, 2.5e6, 0.002, 0.01),
    ),
]


@pytest.mark.parametrize(("fn", "args"), _SCALAR_CASES, ids=[c[0].__name__ for c in _SCALAR_CASES])
def test_numba_njit_matches_python(fn, args):
    compiled = numba.njit(fn)(*args)
    reference = fn(*args)
    assert_allclose(compiled, reference, rtol=1e-13, atol=0.0)


def test_callable_from_a_jitted_kernel():
    # A fused kernel calls the physics functions directly (they are register_jitable).
    @numba.njit
    def kernel(it_w, mech_w):
        out = np.empty(it_w.shape[0])
        for i in range(it_w.shape[0]):
            site, _, _, _ = feed_power_w(
                it_w[i], mech_w[i], 0.99, 1.2e6, 2, 0.0117, 0.028, 0.0019, 2.5e6, 0.002, 0.01
            )
            out[i] = site
        return out

    it_w = np.linspace(0.0, 2.0e6, 11)
    mech_w = np.full(11, 1.0e5)
    ref = feed_power_w(it_w, mech_w, 0.99, 1.2e6, 2, 0.0117, 0.028, 0.0019, 2.5e6, 0.002, 0.01)
    assert_allclose(kernel(it_w, mech_w), ref[0], rtol=1e-13)
