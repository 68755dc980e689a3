#!/usr/bin/env Rscript
# Write the edge-case daily series of the detector cross-check (RHIS):
# 120 days from 2016-01-01 (a leap year: 2016-02-29 is day 60) with an
# all-zero baseline then a single case, a flat non-zero plateau (sd 0)
# with one day above it, a burst, and a day below a flat baseline.
# Usage: Rscript make_edge.R out.csv
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript make_edge.R out.csv")
d <- seq(as.Date("2016-01-01"), by = "day", length.out = 120)
y <- rep(0L, 120)
y[25] <- 1L                                   # one case after 24 zeros
y[40:70] <- 5L                                # flat plateau, sd 0
y[60] <- 6L                                   # one above the plateau (2016-02-29)
y[72] <- 12L; y[73:80] <- c(3L, 0L, 2L, 9L, 1L, 0L, 0L, 4L)
y[100:106] <- 2L; y[107] <- 1L                # below a flat baseline
utils::write.csv(data.frame(date = format(d), count = y), args[1],
                 row.names = FALSE, quote = FALSE)
