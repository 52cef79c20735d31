// Replaced, one file at a time, by the files of RacyPatterns/ (scripts/check-api.sh); each must fail to compile.
print("nothing to check")
