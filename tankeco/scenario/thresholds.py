"""Water-quality limits the summaries, plans and plots measure against (as N unless named).

These are not model parameters: they are what a keeper's fish tolerate, used to count the
days a run spends above them and to draw threshold lines.  The limits of measured
quantities (free ammonia, total ammonia, nitrite, nitrate, oxygen, alkalinity) are rows
of the quantity registry, :mod:`tankeco.units.quantities`, with their sources; they are
named here for the model's summaries.  The limits below them are the ones no sensor
measures.
"""

from tankeco.units import quantities

#: Free (un-ionised) ammonia, mg NH3-N/L (0.02 mg NH3/L, EIFAC 1970).
FREE_NH3_N_MG_L = quantities.FREE_NH3.value

#: Nitrite, mg NO2-N/L (Timmons & Ebeling 2010).
NO2_N_MG_L = quantities.NITRITE.value

#: Nitrate, mg NO3-N/L (Camargo, Alonso & Salamanca 2005).
NO3_N_MG_L = quantities.NITRATE.value

#: Total ammonia, mg TAN/L, chronic criterion at pH 7 and 20 °C (US EPA 2013).
TAN_CHRONIC_MG_L = quantities.TAN_CHRONIC.value

#: Dissolved oxygen below which fish are stressed, mg O2/L (Boyd 2015).
DO_MIN_MG_L = quantities.OXYGEN_MIN.value

#: A cycled tank: ammonia and nitrite both read "0" on a hobby kit, whose first colour
#: step is 0.25 ppm (API freshwater master kit card).
CYCLED_MG_L = 0.25

#: Below this a bed zone counts as anoxic: nitrification needs oxygen (K_O 0.5-1.1 mg/L,
#: Metcalf & Eddy 2014) and denitrification takes over (ASM1 K_OH 0.2 mg/L).
ANOXIC_DO_MG_L = 1.0

#: Alkalinity floor, mg/L as CaCO3: nitrification uses 7.14 mg CaCO3 per mg N and below
#: ~2 dKH (36 mg/L) the pH of a stocked tank starts to slide; Timmons & Ebeling (2010)
#: keep recirculating systems at 50-150 mg/L.  40 mg/L is the floor the planner defaults to
#: (a row of the quantity registry since KH readings are logged and drawn against it).
ALK_MIN_MG_L_CACO3 = quantities.ALK_MIN.value

#: Largest share of the water a single change should replace, as a fraction.  No study
#: gives a number; this is the estimate of hobby practice the planner already used: a
#: larger change swings temperature, pH, hardness and chlorine in one go.  Advice that
#: needs more is a series of changes on consecutive days (``compare.alerts``, whose
#: ``max_fraction`` argument overrides it); ``plan water-changes --max-fraction`` too.
MAX_SINGLE_CHANGE_FRACTION = 0.5

#: pH floor: the US EPA freshwater aquatic-life criterion is pH 6.5-9 (US EPA 1986,
#: Quality Criteria for Water, EPA 440/5-86-001, "Gold Book").
PH_MIN = 6.5
