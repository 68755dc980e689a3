#!/usr/bin/env Rscript
# bench/detect.R - the R side of bench/detect.sh: write the benchmark
# series and time surveillance::earsC on them.
#
# Usage: Rscript bench/detect.R OUTDIR [nseries=100] [years=10] [seed=7]
#                               [methods=C1,C2,C3] [write=TRUE] [time=TRUE]
#
# Builds `nseries` synthetic daily series (synth_series of
# tools/surveil-ref/common.R: Poisson mean 4/day, yearly season, weekday
# effect, 6 outbreaks each), writes OUTDIR/series_NNN.csv (date,count) for
# the C side, then times earsC (baseline 7, package defaults) over all
# series at once as one multivariate sts, as tools/surveil-ref/bench.R
# does.  Prints, per method: "R <method> <points> <seconds> <alarms>".
suppressPackageStartupMessages(library(surveillance))
here <- (function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "."
})()
source(file.path(here, "..", "tools", "surveil-ref", "common.R"))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript bench/detect.R OUTDIR [name=value ...]")
outdir <- args[1]
kv <- parse_kv(args[-1])
nseries <- as.integer(kv_num(kv, "nseries", 100)); years <- kv_num(kv, "years", 10)
methods <- strsplit(kv_str(kv, "methods", "C1,C2,C3"), ",")[[1]]
set.seed(kv_num(kv, "seed", 7))

dates <- seq(as.Date("2015-01-01"), by = "day", length.out = round(years * 365.25))
Y <- sapply(seq_len(nseries), function(i) synth_series(dates, 4, 0.5, TRUE, 6)$y)
n <- nrow(Y)
if (kv_bool(kv, "write", TRUE)) {
  dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
  for (i in seq_len(nseries))
    utils::write.csv(data.frame(date = format(dates), count = Y[, i]),
                     file.path(outdir, sprintf("series_%03d.csv", i)),
                     row.names = FALSE, quote = FALSE)
}
cat(sprintf("# R %s, surveillance %s; %d series x %d days\n", getRversion(),
            packageVersion("surveillance"), nseries, n))
if (kv_bool(kv, "time", TRUE)) {
  s <- sts(observed = Y, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = 365)
  for (m in methods) {
    b <- 7; first <- switch(m, C1 = b + 1, C2 = b + 3, C3 = b + 5)
    t0 <- proc.time()[["elapsed"]]
    r <- earsC(s, control = list(method = m, baseline = b))
    secs <- proc.time()[["elapsed"]] - t0
    cat(sprintf("R %s %d %.3f %d\n", m, nseries * (n - first + 1), secs,
                sum(alarms(r), na.rm = TRUE)))
  }
}
