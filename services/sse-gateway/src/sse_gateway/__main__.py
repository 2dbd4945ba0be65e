from sse_gateway.main import main

main()
