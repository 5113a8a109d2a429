"""SI conversion constants and the unit-suffix glossary.

Inside dcsim every quantity is SI: W, J, s, B (bytes), FLOP, degC for temperatures and K for
temperature differences. Scenario and catalog files may use the practical units listed below;
they are converted exactly once, when the plant is built, with the constants of this module.

Suffix glossary (one spelling per quantity)
-------------------------------------------
==================  =====================================  ==========================
suffix              meaning                                SI factor
==================  =====================================  ==========================
``_w``              power, watt                            1
``_kw``             power, kilowatt (YAML, reports)        1e3
``_mw``             power, megawatt (YAML, reports)        1e6
``_j``              energy, joule                          1
``_kwh``            energy, kilowatt-hour                  3.6e6
``_mwh``            energy, megawatt-hour                  3.6e9
``_s``              time, second                           1
``_ms``             time, millisecond                      1e-3
``_h``              time, hour                             3600
``_d``              time, day                              86400
``_degc``           temperature, degree Celsius            (absolute temperature)
``_delta_k``        temperature difference, kelvin         1
``_frac``           dimensionless share, 0..1              1
``_b``              bytes                                  1
``_gb``             gigabytes (1e9 B)                      1e9
``_b_per_s``        bandwidth, bytes per second            1
``_gb_per_s``       bandwidth, GB/s                        1e9
``_tb_per_s``       bandwidth, TB/s                        1e12
``_flop_per_s``     compute, FLOP per second               1
``_tflops``         compute, 1e12 FLOP per second          1e12
``_params``         parameter count                        1
``_b_params``       parameter count, billions              1e9
``_tok``            tokens                                 1
``_tok_per_s``      token rate                             1
``_tok_per_j``      tokens per joule                       1
``_usd``            money, US dollar                       1
``_kg``             mass, kilogram (carbon as CO2)         1
``_l``              volume, litre (water)                  1
``_m2``             area, square metre (floor area)        1
``_per_mtok``       per million tokens                     1e-6 per token
``_deg``            angle, degree (latitude, longitude)    (not converted)
``_mva``            apparent power, MVA (~MW at unity PF)  1e6 (as W)
``_usd_per_mmbtu``  fuel price, USD per million Btu        1/1.05505585262e9 USD/J
``_mmbtu_per_mwh``  heat rate, MMBtu of fuel per MWh       1.05505585262e9/3.6e9 J/J
``_kg_per_mmbtu``   emission factor, kg CO2 per MMBtu      1/1.05505585262e9 kg/J
``_w_per_s``        power ramp, watt per second            1
``_mw_per_min``     power ramp, MW per minute (YAML)       1e6/60 (as W/s)
==================  =====================================  ==========================

``_tok_per_s_per_w_per_usd`` is a token rate per watt per US dollar (served tok/s per W of
facility power per USD of capital held, SI factor 1; reports show it per MW per $M).

Sign conventions: power drawn from the grid is positive, export negative; battery discharge is
positive supply. The facility balance is
``grid_import + onsite_gen + battery_discharge = it + cooling + losses + battery_charge``.
"""

from __future__ import annotations

KW_W = 1e3
MW_W = 1e6
KWH_J = 3.6e6
MWH_J = 3.6e9
MS_S = 1e-3
MIN_S = 60.0
H_S = 3600.0
D_S = 86400.0
Y_S = 365.0 * D_S
GB_B = 1e9
GB_PER_S_B_PER_S = 1e9
TB_PER_S_B_PER_S = 1e12
TFLOPS_FLOP_PER_S = 1e12
B_PARAMS = 1e9
MTOK_TOK = 1e6
ZERO_C_K = 273.15
#: One million International Table British thermal units (fuel energy, US gas pricing) [J].
MMBTU_J = 1.05505585262e9
#: Litres in a cubic metre (water volumes and prices) [l/m3].
M3_L = 1e3

#: Known suffixes of time-series columns and schema fields; tested in ``tests/test_units.py``.
KNOWN_SUFFIXES: tuple[str, ...] = (
    "_w", "_kw", "_mw", "_j", "_kwh", "_mwh", "_s", "_ms", "_h", "_d", "_degc", "_delta_k",
    "_frac", "_b", "_gb", "_b_per_s", "_gb_per_s", "_tb_per_s", "_flop_per_s", "_tflops",
    "_params", "_b_params", "_tok", "_tok_per_s", "_tok_per_j", "_usd", "_kg", "_l",
    "_per_mtok", "_count", "_per_h", "_per_y", "_per_month", "_per_week", "_usd_per_mwh",
    "_kg_per_mwh", "_l_per_kwh", "_pue", "_cop", "_deg", "_mva", "_usd_per_mmbtu",
    "_mmbtu_per_mwh", "_kg_per_mmbtu", "_usd_per_mw", "_usd_per_m3", "_m2", "_w_per_s",
    "_mw_per_min", "_tok_per_s_per_w_per_usd",
)  # fmt: skip
