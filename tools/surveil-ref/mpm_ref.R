#!/usr/bin/env Rscript
# Reference output of the CIDARS moving percentile method (MPM) for one
# daily series, written for RHIS (R surveillance has no MPM): an
# independent, loop-per-day implementation of docs/surveillance.md with R's
# own quantile(type = 7) as the percentile oracle.
#
# Usage:
#   Rscript mpm_ref.R input.csv [window=7] [years=3] [blocks=2] [pct=50]
#                               [ge=FALSE] [min_count=1] [fill_gaps=FALSE] > out.csv
#
# At day t (1-based): O = sum(y[t-L+1..t]); for j in 1..Y, b in -K..K:
# a = t - 365 j + L b, H = sum(y[a-L+1..a]); T = quantile(H, pct/100,
# type = 7); alarm = (O > T, or O >= T with ge) and O >= min_count.
# stdout columns: date,count,window,threshold,alarm (NA before the first
# day whose oldest block lies inside the data).
here <- (function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "."
})()
source(file.path(here, "common.R"))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript mpm_ref.R input.csv [name=value ...]")
kv <- parse_kv(args[-1])
L <- as.integer(kv_num(kv, "window", 7)); Y <- as.integer(kv_num(kv, "years", 3))
K <- as.integer(kv_num(kv, "blocks", 2)); pct <- kv_num(kv, "pct", 50)
ge <- kv_bool(kv, "ge", FALSE); min_count <- kv_num(kv, "min_count", 1)
d <- read_daily_csv(args[1], fill_gaps = kv_bool(kv, "fill_gaps", FALSE))
y <- d$count; n <- length(y)
first <- 365 * Y + K * L + L
O <- Tq <- rep(NA_real_, n); al <- rep(NA_integer_, n)
for (t in seq_len(n)) {
  if (t < first) next
  H <- c()
  for (j in 1:Y) for (b in -K:K) { a <- t - 365 * j + L * b; H <- c(H, sum(y[(a - L + 1):a])) }
  O[t] <- sum(y[(t - L + 1):t])
  Tq[t] <- unname(stats::quantile(H, pct / 100, type = 7))
  al[t] <- as.integer((if (ge) O[t] >= Tq[t] else O[t] > Tq[t]) && O[t] >= min_count)
}
out <- data.frame(date = format(d$date), count = y, window = fmt(O), threshold = fmt(Tq), alarm = al)
utils::write.csv(out, stdout(), row.names = FALSE, quote = FALSE, na = "NA")
cat("# R ", as.character(getRversion()), "; mpm window=", L, " years=", Y, " blocks=", K,
    " pct=", pct, " ge=", ge, " min_count=", min_count, "\n# days=", n,
    " evaluated=", sum(!is.na(al)), " alarms=", sum(al, na.rm = TRUE), "\n",
    file = stderr(), sep = "")
