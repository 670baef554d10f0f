"""Water-quality limits the summaries and plots measure against (all "as N" unless named).

These are not model parameters: they are what a keeper's fish tolerate, used to count the
days a run spends above them and to draw threshold lines.
"""

#: Free (un-ionised) ammonia, mg NH3-N/L.  0.02 mg NH3/L is the long-standing chronic
#: limit for fish culture (EIFAC 1970, Water quality criteria for European freshwater
#: fish, Tech. Pap. 11; Timmons & Ebeling 2010); 0.02 x 14/17 as N.
FREE_NH3_N_MG_L = 0.02 * 14.007 / 17.031

#: Nitrite, mg NO2-N/L: warm-water fish should be kept below 1 mg/L (Timmons & Ebeling
#: 2010, Recirculating Aquaculture, Table 2.1); keepers aim for zero.
NO2_N_MG_L = 1.0

#: Nitrate, mg NO3-N/L: long-term effects from 10 mg N/L; 2 mg N/L protects the most
#: sensitive species (Camargo, Alonso & Salamanca 2005, Chemosphere 58:1255).
NO3_N_MG_L = 10.0

#: Total ammonia, mg TAN/L, chronic criterion at pH 7 and 20 °C (US EPA 2013,
#: EPA-822-R-13-001).
TAN_CHRONIC_MG_L = 1.9

#: A cycled tank: ammonia and nitrite both read "0" on a hobby kit, whose first colour
#: step is 0.25 ppm (API freshwater master kit card).
CYCLED_MG_L = 0.25

#: Dissolved oxygen below which fish are stressed, mg O2/L (Boyd 2015, Water Quality).
DO_MIN_MG_L = 5.0

#: Below this a bed zone counts as anoxic: nitrification needs oxygen (K_O 0.5-1.1 mg/L,
#: Metcalf & Eddy 2014) and denitrification takes over (ASM1 K_OH 0.2 mg/L).
ANOXIC_DO_MG_L = 1.0

#: Alkalinity floor, mg/L as CaCO3: nitrification uses 7.14 mg CaCO3 per mg N and below
#: ~2 dKH (36 mg/L) the pH of a stocked tank starts to slide; Timmons & Ebeling (2010)
#: keep recirculating systems at 50-150 mg/L.  40 mg/L is the floor the planner defaults to.
ALK_MIN_MG_L_CACO3 = 40.0

#: Largest share of the water a single change should replace, as a fraction.  No study
#: gives a number; this is the estimate of hobby practice the planner already used: a
#: larger change swings temperature, pH, hardness and chlorine in one go.  Advice that
#: needs more is a series of changes on consecutive days (``compare.alerts``, whose
#: ``max_fraction`` argument overrides it); ``plan water-changes --max-fraction`` too.
MAX_SINGLE_CHANGE_FRACTION = 0.5

#: pH floor: the US EPA freshwater aquatic-life criterion is pH 6.5-9 (US EPA 1986,
#: Quality Criteria for Water, EPA 440/5-86-001, "Gold Book").
PH_MIN = 6.5
