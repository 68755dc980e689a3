/*
 * scan.h - the space-time permutation scan statistic (Kulldorff et al.
 * 2005, PLoS Med 2(3):e59; the SaTScan "space-time permutation" model)
 * over townships, with Monte-Carlo p-values.
 *
 * Why: CIDARS' temporal screen (moving percentile) produces many signals
 * per county; the pilot (Li ZJ et al. 2011) kept a signal only when a
 * space-time cluster was significant and cut signals by 60 % at the same
 * sensitivity.  The scan needs case counts only (no population), finds
 * where and since when cases concentrate, and says how unusual that is.
 * It is a pure function: counts in, clusters out; no database, no I/O, no
 * global state, and a caller-chosen seed makes every p-value reproducible.
 *
 * Model.  c[z][d] = cases in location z on day d of a study period of D
 * days, C = sum of all.  Under no space-time interaction the expected count
 * of a cylinder A = zone Z x window T is mu_A = N_Z * N_T / C (N_Z = cases
 * of Z over the whole period, N_T = cases of all locations in T), which is
 * the sum over A of mu[z][d] = N_z * N_d / C.  Zones are circles: a centre
 * location and its nearest neighbours by great-circle distance (ties by
 * input order), grown until a size limit.  The score of A is the log
 * likelihood ratio
 *   LLR = c ln(c/mu) + (C-c) ln((C-c)/(C-mu))  if c > mu, else 0.
 * Replicates permute the day labels of the C cases (both margins stay
 * fixed) and keep their maximum LLR; a cluster's p-value is
 * rank / (R + 1), rank = 1 + number of replicate maxima >= its LLR
 * (secondary clusters are ranked against the same maxima, as SaTScan
 * does: conservative).  docs/surveillance.md has the details.
 *
 * Threading: reentrant; inputs are borrowed read-only, results go to the
 * caller's arena.
 */
#ifndef RHIS_SCAN_H
#define RHIS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/alloc.h"
#include "rhis/status.h"

/* Bounds checked before anything is allocated. */
#define RHIS_SCAN_MAX_LOCATIONS    5000
#define RHIS_SCAN_MAX_DAYS         3660
#define RHIS_SCAN_MAX_CASES        5000000L
#define RHIS_SCAN_MAX_REPLICATIONS 99999
#define RHIS_SCAN_MAX_CLUSTERS     1000
/* zones x time windows evaluated per replicate (memory: 8 bytes each);
 * also the cap on zones before duplicates are removed */
#define RHIS_SCAN_MAX_CYLINDERS (1L << 21)

/* A location: usually a township (9-digit code) with its centroid. */
typedef struct rhis_scan_location {
    const char *code; /* borrowed; not used by the scan, kept for callers */
    double lat, lon;  /* centroid, degrees (WGS 84) */
} rhis_scan_location;

/* The data: counts[z * ndays + d] = cases of location z on day d. */
typedef struct rhis_scan_input {
    const rhis_scan_location *locs; /* nloc, borrowed */
    int nloc;
    int ndays;
    int64_t day0;          /* day number (days since 1970-01-01) of d = 0 */
    const int32_t *counts; /* nloc * ndays, >= 0, borrowed */
} rhis_scan_input;

typedef struct rhis_scan_params {
    /* Spatial size limits; a zone grows while it meets every limit that is
     * set (0 = that limit is off).  Defaults: share 0.5, others off. */
    int max_neighbours;    /* locations in a zone, centre included */
    double max_radius_km;  /* distance from the centre to the farthest */
    double max_case_share; /* N_Z / C, in (0, 1] */
    /* Longest time window in days, 1..ndays; 0 = half the study period
     * (rounded down, at least 1), SaTScan's default. */
    int max_window;
    /* 1 (default): prospective surveillance, every window ends on the last
     * day; 0: retrospective, any window inside the study period. */
    int prospective;
    int min_cases;    /* a cluster needs at least this many (default 2) */
    int replications; /* Monte-Carlo replicates, 0..99999 (default 999);
                       * 0 = no inference: every p is 1 */
    uint64_t seed;    /* permutation seed (default 20050301) */
    int max_clusters; /* most likely + secondary clusters reported, 1..1000
                       * (default 10) */
} rhis_scan_params;

/* One cluster: a zone (locations) x a window [start_day, end_day]. */
typedef struct rhis_scan_cluster {
    int centre;        /* index of the centre location */
    int nlocs;         /* locations in the zone */
    const int *locs;   /* their indices, nearest the centre first */
    double radius_km;  /* centre to the farthest member */
    int start, end;    /* day indices 0..ndays-1, inclusive */
    int64_t start_day; /* day numbers: day0 + start, day0 + end */
    int64_t end_day;
    int64_t observed;       /* c_A */
    double expected;        /* mu_A */
    double rr_inside;       /* c_A / mu_A */
    double rr_outside;      /* (C - c_A) / (C - mu_A) */
    double llr;             /* log likelihood ratio */
    int rank;               /* 1 + replicate maxima >= llr */
    double p;               /* rank / (replications + 1) */
    double recurrence_days; /* 1 / p: once in this many daily analyses */
} rhis_scan_cluster;

typedef struct rhis_scan_result {
    int64_t total_cases; /* C */
    int max_window;      /* the window limit used (after the default) */
    size_t nzones;       /* distinct zones evaluated */
    size_t ncylinders;   /* zones x windows per replicate */
    int nclusters;
    rhis_scan_cluster *clusters; /* by llr, most likely first; secondary
                                  * clusters share no location with a more
                                  * likely one */
    int replications;      /* replicates run: 0 when there is no cluster */
    const double *rep_max; /* replicate maxima, ascending (replications) */
} rhis_scan_result;

/* Fills p with the defaults above. */
void rhis_scan_params_init(rhis_scan_params *p);

/*
 * Runs the scan.  *out (allocated in arena a, valid until it is freed)
 * receives the clusters with LLR > 0 and at least min_cases cases; none
 * when C = 0 or no cylinder has more cases than expected.  RHIS_EINVAL
 * with a message in err (input or parameter out of range: names the
 * field) and RHIS_ETOOBIG (more cylinders than RHIS_SCAN_MAX_CYLINDERS);
 * *out is NULL then.  Cost: O(R * (C + zones * (D + windows))).
 */
rhis_status rhis_scan_run(rhis_arena *a,
                          const rhis_scan_input *in,
                          const rhis_scan_params *p,
                          rhis_scan_result **out,
                          char *err,
                          size_t errlen);

/*
 * The log likelihood ratio of a cylinder with c observed and mu expected
 * cases out of C: 0 unless c > mu.  Requires 0 <= c <= C and
 * 0 <= mu <= C.
 */
double rhis_scan_llr(int64_t c, double mu, int64_t C);

/* Great-circle distance in km between two points (haversine, mean Earth
 * radius 6371.0088 km). */
double
rhis_scan_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
