-- ARGV[5]: a client's id; ARGV[6]: a private message for it alone.
append(NODE, ARGV[6], {'t', ARGV[5]})
return 1
