import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.script.ScriptEngine;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.*;

public class UserServlet extends HttpServlet {
    private Connection conn;

    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws Exception {
        String name = request.getParameter("name");
        Statement st = conn.createStatement();
        // ruleid: vigil-java-sql-injection
        ResultSet rs = st.executeQuery("SELECT * FROM users WHERE name = '" + name + "'");
        // ok: vigil-java-sql-injection
        PreparedStatement ps = conn.prepareStatement("SELECT * FROM users WHERE name = ?");
        ps.setString(1, name);
        ps.executeQuery();
        String host = request.getParameter("host");
        // ruleid: vigil-java-command-injection
        Runtime.getRuntime().exec("ping -c 1 " + host);
        // ok: vigil-java-command-injection
        new ProcessBuilder("ping", "-c", "1", "--", host).start();
    }
}

@RestController
class OrderController {
    private JdbcTemplate jdbcTemplate;
    private ScriptEngine engine;

    @GetMapping("/orders/{id}")
    public Object order(@PathVariable String id, @RequestParam(defaultValue = "date") String sort) {
        // ruleid: vigil-java-sql-injection
        jdbcTemplate.queryForList("SELECT * FROM orders WHERE id = " + id);
        // ok: vigil-java-sql-injection
        jdbcTemplate.queryForList("SELECT * FROM orders WHERE id = ?", id);
        // ok: vigil-java-sql-injection
        return jdbcTemplate.queryForList("SELECT * FROM orders WHERE id = " + Integer.parseInt(id));
    }

    @PostMapping("/convert")
    public void convert(@RequestParam String file) throws IOException {
        // ruleid: vigil-java-command-injection
        new ProcessBuilder("sh", "-c", "convert " + file + " out.png").start();
        // ok: vigil-java-command-injection
        new ProcessBuilder("sh", "-c", "convert in.png out.png").start();
    }

    @GetMapping("/calc")
    public Object calc(@RequestParam String expr) throws Exception {
        // ruleid: vigil-java-expression-injection
        Object a = new SpelExpressionParser().parseExpression(expr).getValue();
        // ruleid: vigil-java-expression-injection
        Object b = engine.eval(expr);
        // ok: vigil-java-expression-injection
        Object c = new SpelExpressionParser().parseExpression("1 + 1").getValue();
        // ok: vigil-java-expression-injection
        Object d = engine.eval("Math.max(1, 2)");
        return a;
    }
}
