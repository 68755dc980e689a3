#!/usr/bin/env Rscript
# bench/farrington.R - the R side of bench/farrington.sh: time
# surveillance::farringtonFlexible on the first `nseries` benchmark series.
#
# Usage: Rscript bench/farrington.R DIR task=TASK nseries=K
#   DIR holds series_NNN.csv (date,count) written by bench/detect.R
#   (synth_series, seed 7: the same input as the EARS benchmark).
#   TASK: day          package defaults, daily, every evaluable day
#         week         package defaults, Monday-Sunday weekly sums, every
#                      evaluable week
#         week_nou     Noufaily preset (noPeriods 10, weightsThreshold 2.58,
#                      pastWeeksNotIncluded 26, pThresholdTrend 1,
#                      nbPlugin), weekly, every evaluable week
#         day_nou365   Noufaily preset, daily, the last 365 days
# The K series go in as one multivariate sts, as tools/surveil-ref/bench.R
# does.  The first evaluable point is the reference scripts' rule (the
# date b years back minus (w + 1) units lies in the data), which is also
# what `rhis detect` evaluates by default.
# Prints "R <task> <points> <CPU seconds> <alarms>" (CPU time of this
# single-threaded process, so a shared machine does not skew the ratio).
suppressPackageStartupMessages(library(surveillance))
here <- (function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "."
})()
source(file.path(here, "..", "tools", "surveil-ref", "common.R"))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript bench/farrington.R DIR task=TASK nseries=K")
kv <- parse_kv(args[-1])
task <- kv_str(kv, "task", "day")
k <- as.integer(kv_num(kv, "nseries", 10))
files <- sort(list.files(args[1], pattern = "^series_[0-9]+\\.csv$", full.names = TRUE))
if (length(files) < k) stop("fewer than ", k, " series in ", args[1])
ser <- lapply(files[seq_len(k)], read_daily_csv)
if (grepl("^week", task)) {
  ser <- lapply(ser, to_weekly)
  freq <- 52; unit <- 7
} else {
  freq <- 365; unit <- 1
}
dates <- ser[[1]]$date
Y <- sapply(ser, function(d) d$count)
n <- length(dates)

first_ok <- function(dt, b, w, unit, pw) {
  for (i in seq_along(dt)) {
    back <- seq(dt[i], length.out = b + 1, by = "-1 year")[b + 1]
    if (back - (w + 1) * unit >= dt[1] && i - pw >= 1) return(i)
  }
  NA
}
nou <- grepl("nou", task)
ctl <- list(b = 5, w = 3, glmWarnings = FALSE)
if (nou) {
  ctl$noPeriods <- 10; ctl$weightsThreshold <- 2.58; ctl$pastWeeksNotIncluded <- 26
  ctl$pThresholdTrend <- 1; ctl$thresholdMethod <- "nbPlugin"
}
k0 <- first_ok(dates, 5, 3, unit, if (nou) 26 else 3)
ctl$range <- if (task == "day_nou365") (n - 364):n else k0:n
s <- sts(observed = Y, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq)
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- cpu()
r <- farringtonFlexible(s, control = ctl)
secs <- cpu() - t0
cat(sprintf("R %s %d %.3f %d\n", task, k * length(ctl$range), secs,
            sum(alarms(r), na.rm = TRUE)))
