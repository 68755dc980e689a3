#!/usr/bin/env Rscript
# Reference output of surveillance::cusum (algo.cusum, trans = "standard",
# m = NULL: the mean of every day before `from`) for one daily series,
# written for RHIS.  surveillance 1.20.3 has no reset, so compare with
# `rhis detect --method cusum --reset 0`.
#
# Usage:
#   Rscript cusum_ref.R input.csv from=YYYY-MM-DD [to=YYYY-MM-DD] [k=1.04] [h=2.26]
#                       [fill_gaps=FALSE] > out.csv
# stdout columns: date,count,upper,alarm,S (NA outside from..to).
suppressPackageStartupMessages(library(surveillance))
here <- (function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "."
})()
source(file.path(here, "common.R"))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript cusum_ref.R input.csv from=D [name=value ...]")
kv <- parse_kv(args[-1])
d <- read_daily_csv(args[1], fill_gaps = kv_bool(kv, "fill_gaps", FALSE))
n <- nrow(d)
if (is.null(kv$from)) stop("from= is required (m is the mean before it)")
from <- as.Date(kv$from); to <- if (is.null(kv$to)) d$date[n] else as.Date(kv$to)
rng <- which(d$date >= from & d$date <= to)
if (!length(rng) || rng[1] < 2) stop("need at least one day before from")
ctl <- list(range = rng, k = kv_num(kv, "k", 1.04), h = kv_num(kv, "h", 2.26),
            m = NULL, trans = "standard")
s <- make_sts(d$date, d$count, 365)
r <- cusum(s, control = ctl)
ub <- al <- S <- rep(NA_real_, n)
ub[rng] <- as.numeric(upperbound(r)); al[rng] <- as.integer(alarms(r))
# The statistic itself, recomputed (the sts result does not carry it).
m <- mean(d$count[seq_len(rng[1] - 1)]); prev <- 0
for (t in rng) { prev <- max(0, prev + (d$count[t] - m) / sqrt(m) - ctl$k); S[t] <- prev }
out <- data.frame(date = format(d$date), count = d$count, upper = fmt(ub), alarm = al, S = fmt(S))
utils::write.csv(out, stdout(), row.names = FALSE, quote = FALSE, na = "NA")
cat("# surveillance ", as.character(packageVersion("surveillance")), "; cusum k=", ctl$k,
    " h=", ctl$h, " m=", signif(m, 10), " from=", format(d$date[rng[1]]), " to=",
    format(d$date[max(rng)]), "\n# evaluated=", length(rng), " alarms=", sum(al, na.rm = TRUE), "\n",
    file = stderr(), sep = "")
