-- ARGV[5]: leave notice format.  Returns the clients announced gone.
return bury(NODE, ARGV[5])
